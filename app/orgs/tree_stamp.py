"""A stamp that changes with every change to the org tree, for what keeps a copy of the tree
between requests (the reports' `Tree`: reading the country's 3,300 units took 18 ms of every
national dashboard).

Database triggers on `org_units` set a new stamp on every INSERT, UPDATE or DELETE, whoever
writes: the ORM, the Core UPDATE that moves every path under the central unit, a migration, a
statement typed by hand. The stamp is random, not a counter: a counter starts again with each
new database, and a process that had kept the tree of another database (a restore, the tests)
would take the same number for the same tree.

Alembic (the migration that adds the table)::

    op.create_table(...)
    install_stamp(op.get_bind())
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

STAMP_TABLE = "org_tree_stamp"

# No colons or percent signs: these go through sa.text() and the drivers.
_TRIGGERS = {
    "postgresql": (
        """
        CREATE OR REPLACE FUNCTION org_tree_restamp() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE org_tree_stamp SET stamp = CAST(floor(random() * 9.2e18) AS bigint);
            RETURN NULL;
        END
        $$
        """,
        "DROP TRIGGER IF EXISTS org_units_restamp ON org_units",
        """
        CREATE TRIGGER org_units_restamp AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
        ON org_units FOR EACH STATEMENT EXECUTE FUNCTION org_tree_restamp()
        """,
    ),
    "sqlite": (
        "DROP TRIGGER IF EXISTS org_units_restamp_insert",
        "CREATE TRIGGER org_units_restamp_insert AFTER INSERT ON org_units "
        "BEGIN UPDATE org_tree_stamp SET stamp = random(); END",
        "DROP TRIGGER IF EXISTS org_units_restamp_update",
        "CREATE TRIGGER org_units_restamp_update AFTER UPDATE ON org_units "
        "BEGIN UPDATE org_tree_stamp SET stamp = random(); END",
        "DROP TRIGGER IF EXISTS org_units_restamp_delete",
        "CREATE TRIGGER org_units_restamp_delete AFTER DELETE ON org_units "
        "BEGIN UPDATE org_tree_stamp SET stamp = random(); END",
    ),
}

_DROP = {
    "postgresql": (
        "DROP TRIGGER IF EXISTS org_units_restamp ON org_units",
        "DROP FUNCTION IF EXISTS org_tree_restamp()",
    ),
    "sqlite": tuple(
        f"DROP TRIGGER IF EXISTS org_units_restamp_{op}" for op in ("insert", "update", "delete")
    ),
}


class OrgTreeStamp(db.Model):
    """One row: the stamp of the org tree as it is now."""

    __tablename__ = STAMP_TABLE

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    stamp: Mapped[int] = mapped_column(sa.BigInteger)


def current_stamp(connection: sa.Connection) -> int | None:
    """The tree's stamp, read in the caller's transaction (None: no stamp, keep nothing)."""
    return connection.execute(sa.select(OrgTreeStamp.stamp).where(OrgTreeStamp.id == 1)).scalar()


def _run(connection, statements) -> None:
    for statement in statements:
        connection.execute(sa.text(statement))


def install_triggers(connection) -> None:
    _run(connection, _TRIGGERS[connection.dialect.name])


def install_stamp(connection) -> None:
    """The stamp's row and the triggers that change it (the table exists)."""
    connection.execute(
        sa.insert(OrgTreeStamp.__table__).values(id=1, stamp=secrets.randbits(62))
    )
    install_triggers(connection)


def drop_triggers(connection) -> None:
    _run(connection, _DROP[connection.dialect.name])


def _after_create_all(metadata, connection, tables=(), **kw):
    # Once every table exists: SQLite's CREATE TRIGGER needs org_units, which `create_all` may
    # make after this table.
    if any(t.name == STAMP_TABLE for t in tables):
        install_stamp(connection)


sa.event.listen(db.metadata, "after_create", _after_create_all)
