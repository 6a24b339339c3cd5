"""Audit test fixtures: a second app with its own database for tests that need real commits."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from app import create_app
from app.audit import services
from app.crypto.keyring import keyring
from app.extensions import db as _db
from app.permissions import Actor, Role
from tests.conftest import make_config, other_backend, private_pg_url, reset_schema

PG_SKIP = other_backend("needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://...")


def is_postgres() -> bool:
    return os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql")


@dataclass
class Committed:
    """An app whose database keeps what tests commit (file SQLite, or a private PG database)."""

    app: object
    dialect: str

    def key(self) -> bytes:
        with self.app.app_context():
            return keyring().audit_key

    def append(self, n: int, action: str = "audit.viewed", actor: Actor | None = None) -> None:
        actor = actor or ACTOR
        with self.app.app_context():
            for _ in range(n):
                services.record(actor, action, object_type="audit_log")
                _db.session.commit()

    def execute(self, sql: str, params: dict | None = None):
        """Run SQL as someone with direct database access (commits)."""
        with self.app.app_context(), _db.engine.begin() as conn:
            result = conn.execute(sa.text(sql), params or {})
            return result.all() if result.returns_rows else None

    def drop_guards(self) -> None:
        from app.audit.guards import drop_guards

        with self.app.app_context(), _db.engine.begin() as conn:
            drop_guards(conn, conn.dialect.name)

    def verify(self, **kwargs):
        """`flask audit verify` as a function: with the checkpoint file unless told otherwise."""
        from app.audit.checkpoints import checkpoint_path, load_checkpoints
        from app.audit.verify import verify_database

        with self.app.app_context():
            key = keyring().audit_key
            found, problems = load_checkpoints(checkpoint_path(), key)
            kwargs.setdefault("checkpoints", found)
            kwargs.setdefault("file_problems", problems)
            return verify_database(_db.engine, key, **kwargs)

    def cli(self, *args: str):
        # with_appcontext uses the current app when there is one (the `db` fixture's), so push ours.
        with self.app.app_context():
            return self.app.test_cli_runner().invoke(args=list(args))


ACTOR = Actor(user_id=1, username="caseworker", role=Role.CASEWORKER, org_unit_id=1, org_path="/1/")


def _committed(tmp_path, backend: str) -> Iterator[Committed]:
    # The autouse `db` fixture bound db.session to the shared test connection; this app needs
    # Flask-SQLAlchemy's own session (one per app context, so per thread) on its own engine.
    fixture_session = _db.session
    _db.session = _db._make_scoped_session({})
    url = (
        private_pg_url("commits")
        if backend == "postgresql"
        else f"sqlite:///{tmp_path}/commits.sqlite3"
    )
    app = create_app(make_config(tmp_path, url))
    try:
        reset_schema(app)
        yield Committed(app, backend)
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()
        _db.session = fixture_session


@pytest.fixture
def committed(tmp_path, db) -> Iterator[Committed]:
    """On the backend under test (PostgreSQL when TEST_DATABASE_URL says so)."""
    yield from _committed(tmp_path, "postgresql" if is_postgres() else "sqlite")


@pytest.fixture
def committed_sqlite(tmp_path, db) -> Iterator[Committed]:
    yield from _committed(tmp_path, "sqlite")


@pytest.fixture
def committed_postgres(tmp_path, db) -> Iterator[Committed]:
    if not is_postgres():
        pytest.skip(PG_SKIP)
    yield from _committed(tmp_path, "postgresql")
