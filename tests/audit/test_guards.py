"""The database itself refuses to change or remove audit events."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.guards import UnsupportedDatabase, drop_guards, install_guards
from app.extensions import db as _db
from tests.audit.conftest import PG_SKIP


def _refused(committed, sql: str) -> str:
    with pytest.raises(sa.exc.DBAPIError) as info:
        committed.execute(sql)
    return str(info.value.orig)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_events SET reason = 'changed' WHERE seq = 2",
        "UPDATE audit_events SET seq = 99 WHERE seq = 3",
        "DELETE FROM audit_events WHERE seq = 2",
        "DELETE FROM audit_events",
    ],
)
def test_update_and_delete_are_refused(committed, sql):
    committed.append(3)
    assert "append-only" in _refused(committed, sql)
    assert committed.execute("SELECT count(*) FROM audit_events")[0][0] == 3
    assert committed.verify().ok


def test_truncate_is_refused_on_postgresql(committed):
    if committed.dialect != "postgresql":
        pytest.skip(PG_SKIP + " (SQLite has no TRUNCATE)")
    committed.append(2)
    assert "append-only" in _refused(committed, "TRUNCATE audit_events")
    assert "forward" in _refused(committed, "TRUNCATE audit_shards")
    assert committed.execute("SELECT count(*) FROM audit_events")[0][0] == 2


@pytest.mark.parametrize(
    "sql",
    [
        "DELETE FROM audit_shards",
        "UPDATE audit_shards SET last_seq = 1 WHERE shard = 1",
        "UPDATE audit_shards SET last_seq = 3, last_hash = 'x' WHERE shard = 1",
        "UPDATE audit_shards SET shard = 2 WHERE shard = 1",
    ],
)
def test_head_only_moves_forward(committed, sql):
    committed.append(3)
    assert "forward" in _refused(committed, sql)
    committed.append(1)  # appending still moves it forward
    assert committed.verify().ok


def test_guards_can_be_dropped_and_reinstalled(committed):
    """The functions the migration calls; dropping is what an attacker with DDL rights does."""
    committed.append(2)
    with committed.app.app_context(), _db.engine.begin() as conn:
        drop_guards(conn, conn.dialect.name)
    committed.execute("UPDATE audit_events SET reason = 'x' WHERE shard_seq = 1")
    with committed.app.app_context(), _db.engine.begin() as conn:
        install_guards(conn, conn.dialect.name)
        install_guards(conn, conn.dialect.name)  # idempotent
    assert "append-only" in _refused(committed, "DELETE FROM audit_events")
    assert committed.verify().problem.position == 1


def test_unknown_dialect_is_refused():
    with pytest.raises(UnsupportedDatabase):
        install_guards(None, "mysql")


def test_unknown_dialect_cannot_drop_guards_either():
    with pytest.raises(UnsupportedDatabase):
        drop_guards(None, "mysql")
