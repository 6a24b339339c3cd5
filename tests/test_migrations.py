"""The schema comes only from migrations: one head, and upgrading gives exactly the models."""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from app import create_app
from app.extensions import db
from tests.conftest import make_config


def _script(app) -> ScriptDirectory:
    return ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())


@pytest.fixture
def empty_database(tmp_path):
    """A fresh, empty database on the backend under test."""
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path}/migrations.sqlite3"
        return
    name = f"caunoi_mig_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f"CREATE DATABASE {name}")
    try:
        yield sa.engine.make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.dispose()


def test_single_head(app):
    with app.app_context():
        heads = _script(app).get_heads()
    assert len(heads) == 1, heads


def test_migration_file_names_are_dated(app):
    with app.app_context():
        for revision in _script(app).walk_revisions():
            name = os.path.basename(revision.path)
            assert name[:4].isdigit() and name[4] == "_", name


def test_upgrade_gives_exactly_the_models(tmp_path, empty_database):
    migrated = create_app(make_config(tmp_path, empty_database))
    with migrated.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "render_as_batch": True}
            )
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == [], diff
