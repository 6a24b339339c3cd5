"""A trail written before shards existed migrates into shard 0 unchanged and still verifies."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from flask_migrate import upgrade

from app import create_app
from app.audit import services
from app.audit.chain import GENESIS_HASH, canonical, keyed_hash
from app.crypto.keyring import keyring
from app.extensions import db
from app.permissions import Actor, Role
from tests.conftest import make_config
from tests.test_migrations import empty_database  # noqa: F401  (fixture)

BEFORE_SHARDS = "e97a2778673e"


def _legacy_events(key: bytes, n: int) -> tuple[list[dict], str]:
    """Rows as the single-chain code wrote them (format 1: the same bytes as before)."""
    rows, prev = [], GENESIS_HASH
    for seq in range(1, n + 1):
        values = {
            "seq": seq,
            "shard": 0,
            "shard_seq": seq,
            "format": 1,
            "occurred_at": datetime(2026, 11, 1, 8, 0, seq, 123456, tzinfo=UTC),
            "actor_user_id": 1,
            "actor_username": "caseworker",
            "actor_role": "caseworker",
            "org_unit_id": 1,
            "action": "case.viewed",
            "object_type": "case",
            "object_ref": f"NB-2026-{seq:05d}",
            "outcome": "success",
            "reason": None,
            "request_id": None,
            "client_address": None,
            "details": "{}",
            "prev_hash": prev,
        }
        prev = keyed_hash(key, canonical(list(values.values())))
        rows.append({**values, "hash": prev})
    return rows, prev


def test_legacy_trail_migrates_and_still_verifies(tmp_path, empty_database, monkeypatch):  # noqa: F811
    # The autouse `db` fixture bound db.session to the shared test connection; use our own.
    monkeypatch.setattr(db, "session", db._make_scoped_session({}))
    app = create_app(make_config(tmp_path, empty_database))
    with app.app_context():
        upgrade(revision=BEFORE_SHARDS)
        key = keyring().audit_key
        rows, last_hash = _legacy_events(key, 12)
        events = sa.table(
            "audit_events",
            *(sa.column(c) for c in rows[0] if c not in ("shard", "shard_seq", "format")),
        )
        with db.engine.begin() as conn:
            conn.execute(
                events.insert(),
                [
                    {k: v for k, v in r.items() if k not in ("shard", "shard_seq", "format")}
                    for r in rows
                ],
            )
            conn.execute(
                sa.text("UPDATE audit_head SET last_seq = 12, last_hash = :h WHERE id = 1"),
                {"h": last_hash},
            )
        upgrade()
        from app.audit.verify import verify_database

        result = verify_database(db.engine, key, workers=1)
        assert result.ok, result.problems
        assert result.shards[0].last_seq == 12
        # New events continue: shard 0 after the legacy events, a province in its own chain.
        system = services.record(Actor.system("test"), "audit.checkpoint")
        province = services.record(
            Actor(3, "cw", Role.CASEWORKER, 5, "/5/"), "case.viewed", object_type="case"
        )
        db.session.commit()
        assert (system.shard, system.shard_seq, system.seq) == (0, 13, 13)
        assert (province.shard, province.shard_seq, province.seq) == (5, 1, 14)
        result = verify_database(db.engine, key, workers=1)
        assert result.ok, result.problems
        assert result.checked == 14
        db.session.remove()
        db.engine.dispose()
