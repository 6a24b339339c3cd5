"""Declarative base, constraint naming convention, UTC timestamps, SQLite connection rules."""

from __future__ import annotations

from contextvars import ContextVar, Token
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session

from app.private_files import tighten_sqlite

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(sa.types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores no zone)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use utcnow()")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    """Now in UTC, to the microsecond (both backends keep microseconds)."""
    return datetime.now(UTC)


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    # Let SQLAlchemy issue BEGIN itself (pysqlite's own handling breaks SAVEPOINT).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # The database, its WAL and shared memory are the owner's alone (app/private_files.py).
    main = cursor.execute("PRAGMA database_list").fetchone()
    cursor.close()
    if main and main[2]:
        tighten_sqlite(main[2])


# SQLite transactions. Every transaction takes the write lock up front (BEGIN IMMEDIATE): a
# request reads, then writes its audit event, and a deferred transaction that read first fails
# with SQLITE_BUSY_SNAPSHOT when another connection wrote in between. It also serializes
# audit-chain appends (DESIGN: "SQLite: its write lock").
#
# A page that reads a lot and writes only its audit event at the end (the case list) would hold
# that lock for all its reads, and the other workers would queue behind it. Such a view is
# marked `reads_first`: its transaction starts as a plain read snapshot that may not write, and
# `begin_writing` ends the snapshot and takes the write lock just before the first write. What
# was read before stays what the view shows; the write itself never meets a stale snapshot.
READ_SNAPSHOT = "caunoi_read_snapshot"  # execution option: begin this transaction as a snapshot
_IN_SNAPSHOT = "caunoi_in_read_snapshot"  # connection info: the snapshot is open right now


# Inside a page that reads first, every transaction begins as a snapshot, not only the first:
# after the session's own write commits (last seen), the page's reads must not run under the
# write lock either. Set per request by app/web/transactions.py.
_read_first_scope: ContextVar[bool] = ContextVar("caunoi_read_first_scope", default=False)


def enter_read_first_scope() -> Token:
    return _read_first_scope.set(True)


def leave_read_first_scope(token: Token) -> None:
    _read_first_scope.reset(token)


def reads_first(view):
    """Mark a view whose reads need no write lock: see `begin_writing` (SQLite only)."""
    view.reads_first = True
    return view


@event.listens_for(Engine, "begin")
def _sqlite_on_begin(conn):
    if conn.dialect.name != "sqlite":
        return
    if conn.get_execution_options().get(READ_SNAPSHOT) or _read_first_scope.get():
        conn.exec_driver_sql("BEGIN")
        conn.info[_IN_SNAPSHOT] = True
    else:
        conn.info.pop(_IN_SNAPSHOT, None)
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _sqlite_on_end(conn):
    if conn.dialect.name == "sqlite" and not conn.invalidated:
        conn.info.pop(_IN_SNAPSHOT, None)


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_writes_in_snapshot(conn, cursor, statement, parameters, context, executemany):
    # A write here would succeed or fail with SQLITE_BUSY_SNAPSHOT depending on what other
    # workers did meanwhile; refuse it every time instead, so that tests find the missing call.
    if not conn.info.get(_IN_SNAPSHOT):
        return
    # (Savepoints too: `begin_writing` ends the snapshot, and a savepoint with it.)
    if statement.lstrip()[:6].upper() != "SELECT":
        raise RuntimeError("write in a read snapshot: call app.db.begin_writing() first")


def commit_keeping_loaded(session: Session | scoped_session) -> None:
    """Commit without expiring what the session has loaded, for a page rendered after its
    commit: the case page reloaded its case, unit, assignee, needs and consents one statement
    each to render what it had just read."""
    own = session() if isinstance(session, scoped_session) else session
    expire = own.expire_on_commit
    own.expire_on_commit = False
    try:
        own.commit()
    finally:
        own.expire_on_commit = expire


def begin_writing(session: Session | scoped_session) -> None:
    """Before the first write of a `reads_first` transaction: end its read snapshot and take
    the write lock. A no-op for every other transaction (it holds the lock already) and on
    PostgreSQL (row locks; the audit head is locked with SELECT ... FOR UPDATE)."""
    conn = session.connection()
    if conn.info.pop(_IN_SNAPSHOT, False):
        conn.exec_driver_sql("COMMIT")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
