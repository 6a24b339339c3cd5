"""Database guards that keep the audit trail append-only even for code that bypasses the app.

PostgreSQL: triggers refuse UPDATE, DELETE and TRUNCATE on ``audit_events``, and refuse deleting
an ``audit_shards`` row (a shard's head), truncating them or moving one backwards. SQLite: the
same triggers, without TRUNCATE (SQLite has none). A database owner can still drop the
triggers; the keyed hash chains (``flask audit verify``) are what detect that, the guards stop
accidents and casual edits.

Alembic (the lead's migration)::

    from app.audit.guards import drop_guards, install_guards

    def upgrade():
        ...create audit_events and audit_shards...
        install_guards(op.get_bind(), op.get_bind().dialect.name)

    def downgrade():
        drop_guards(op.get_bind(), op.get_bind().dialect.name)
        ...

`metadata.create_all` (tests, `db.create_all()`) installs them through the ``after_create``
listeners that `attach_guards` registers on the two tables.
"""

from __future__ import annotations

import sqlalchemy as sa

EVENTS_TABLE = "audit_events"
HEAD_TABLE = "audit_shards"

# No colons or percent signs in these statements: they go through sa.text() and the drivers.
_PG_EVENTS = (
    """
    CREATE OR REPLACE FUNCTION audit_events_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION USING
            MESSAGE = 'audit_events is append-only; ' || TG_OP || ' refused',
            ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
    """
    CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_refuse_change()
    """,
    "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
    """
    CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_refuse_change()
    """,
)

_PG_HEAD = (
    """
    CREATE OR REPLACE FUNCTION audit_shards_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'UPDATE' THEN
            IF NEW.shard = OLD.shard AND NEW.last_seq > OLD.last_seq THEN
                RETURN NEW;
            END IF;
        END IF;
        RAISE EXCEPTION USING
            MESSAGE = 'audit_shards only move forward; ' || TG_OP || ' refused',
            ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    "DROP TRIGGER IF EXISTS audit_shards_forward_only ON audit_shards",
    """
    CREATE TRIGGER audit_shards_forward_only BEFORE UPDATE OR DELETE ON audit_shards
    FOR EACH ROW EXECUTE FUNCTION audit_shards_refuse_change()
    """,
    "DROP TRIGGER IF EXISTS audit_shards_no_truncate ON audit_shards",
    """
    CREATE TRIGGER audit_shards_no_truncate BEFORE TRUNCATE ON audit_shards
    FOR EACH STATEMENT EXECUTE FUNCTION audit_shards_refuse_change()
    """,
)

_SQLITE_EVENTS = (
    "DROP TRIGGER IF EXISTS audit_events_no_update",
    """
    CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only; UPDATE refused'); END
    """,
    "DROP TRIGGER IF EXISTS audit_events_no_delete",
    """
    CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    BEGIN SELECT RAISE(ABORT, 'audit_events is append-only; DELETE refused'); END
    """,
)

_SQLITE_HEAD = (
    "DROP TRIGGER IF EXISTS audit_shards_forward_only",
    """
    CREATE TRIGGER audit_shards_forward_only BEFORE UPDATE ON audit_shards
    WHEN NEW.shard <> OLD.shard OR NEW.last_seq <= OLD.last_seq
    BEGIN SELECT RAISE(ABORT, 'audit_shards only move forward; UPDATE refused'); END
    """,
    "DROP TRIGGER IF EXISTS audit_shards_no_delete",
    """
    CREATE TRIGGER audit_shards_no_delete BEFORE DELETE ON audit_shards
    BEGIN SELECT RAISE(ABORT, 'audit_shards only move forward; DELETE refused'); END
    """,
)

_DROP = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS audit_events_no_update_delete ON audit_events",
        "DROP TRIGGER IF EXISTS audit_events_no_truncate ON audit_events",
        "DROP TRIGGER IF EXISTS audit_shards_forward_only ON audit_shards",
        "DROP TRIGGER IF EXISTS audit_shards_no_truncate ON audit_shards",
        "DROP FUNCTION IF EXISTS audit_events_refuse_change()",
        "DROP FUNCTION IF EXISTS audit_shards_refuse_change()",
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS audit_events_no_update",
        "DROP TRIGGER IF EXISTS audit_events_no_delete",
        "DROP TRIGGER IF EXISTS audit_shards_forward_only",
        "DROP TRIGGER IF EXISTS audit_shards_no_delete",
    ),
}

_INSTALL = {
    "postgresql": {EVENTS_TABLE: _PG_EVENTS, HEAD_TABLE: _PG_HEAD},
    "sqlite": {EVENTS_TABLE: _SQLITE_EVENTS, HEAD_TABLE: _SQLITE_HEAD},
}


class UnsupportedDatabase(RuntimeError):
    """The audit trail is only guarded on the databases Cầu Nối supports."""


def _check_supported(dialect_name: str) -> None:
    if dialect_name not in _INSTALL:
        raise UnsupportedDatabase(
            f"no audit guards for the {dialect_name} dialect; only postgresql and sqlite"
        )


def _statements(dialect_name: str, table: str) -> tuple[str, ...]:
    _check_supported(dialect_name)
    return _INSTALL[dialect_name][table]


def _run(connection, statements) -> None:
    for statement in statements:
        connection.execute(sa.text(statement))


def install_table_guards(connection, dialect_name: str, table: str) -> None:
    """Install the guards of one table (``audit_events`` or ``audit_shards``)."""
    _run(connection, _statements(dialect_name, table))


def install_guards(connection, dialect_name: str) -> None:
    """Install every audit guard; `connection` is a SQLAlchemy Connection (or ``op.get_bind()``)."""
    install_table_guards(connection, dialect_name, EVENTS_TABLE)
    install_table_guards(connection, dialect_name, HEAD_TABLE)


def drop_guards(connection, dialect_name: str) -> None:
    """Remove every audit guard (migration downgrade; tests that simulate an attacker)."""
    _check_supported(dialect_name)
    _run(connection, _DROP[dialect_name])


def attach_guards(events_table: sa.Table, head_table: sa.Table) -> None:
    """Install the guards whenever `create_all` creates the tables."""

    def _after_create(target, connection, **kw):
        install_table_guards(connection, connection.dialect.name, target.name)

    sa.event.listen(events_table, "after_create", _after_create)
    sa.event.listen(head_table, "after_create", _after_create)
