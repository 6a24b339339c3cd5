"""Shared fixtures: one app and schema per run; each test in a transaction rolled back after it.

Set TEST_DATABASE_URL=postgresql+psycopg://... to run the same suite on PostgreSQL.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from flask_sqlalchemy.query import Query
from sqlalchemy import orm
from sqlalchemy.engine import make_url

from app import create_app
from app.crypto.keyring import Keyring, write_key_file
from app.extensions import db as _db
from app.extensions import limiter
from app.i18n import compile_catalogs
from config import TestingConfig
from tests.factories import PASSWORD, OrgUnitFactory, UserFactory


def pytest_addoption(parser):
    parser.addoption(
        "--fuzz", action="store_true", help="also run the schemathesis API run (tests/fuzz)"
    )


# A skip that the other database's run of the suite covers (.ci/run runs SQLite, then
# PostgreSQL): it stays a skip under CI=true. Every other skip is a failure there.
OTHER_BACKEND = "[run on the other database] "


def other_backend(reason: str) -> str:
    return OTHER_BACKEND + reason


def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under CI=true a skip is a failure: a missing PostgreSQL, Redis, Chromium, pg_dump or
    ../shared must not let a run pass on the tests that could not run. Locally it stays a skip,
    and `-rs` (pyproject.toml) prints every reason."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _ci() and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        if str(reason).removeprefix("Skipped: ").startswith(OTHER_BACKEND):
            return
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, which requires it: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole module skipped at import (pytest.skip(allow_module_level=True))."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and _ci():
        report.outcome = "failed"


def pytest_collection_modifyitems(config, items):
    """tests/fuzz runs only with --fuzz (.ci/run): deselected, not skipped, otherwise."""
    if config.getoption("--fuzz"):
        return
    kept = [item for item in items if item.get_closest_marker("fuzz") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept


def make_config(tmp_path, database_url: str | None = None) -> type[TestingConfig]:
    key_file = tmp_path / "keys.json"
    if not key_file.exists():
        write_key_file(key_file, Keyring.generate())
    url = (
        database_url or os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp_path}/test.sqlite3"
    )

    class Config(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url
        CAUNOI_KEY_FILE = str(key_file)
        AUDIT_CHECKPOINT_FILE = str(tmp_path / "audit-checkpoints.log")

    return Config


def wipe_database(url: str) -> None:
    """Drop every table a previous run left on a shared server database.

    Done before create_app: its start-up check refuses a database holding data keys wrapped by
    a key set (an earlier run's temporary key file) that no longer exists.
    """
    if not url.startswith("postgresql"):
        return
    engine = sa.create_engine(url)
    try:
        meta = sa.MetaData()
        meta.reflect(engine)
        with engine.begin() as conn:
            meta.drop_all(conn)
    finally:
        engine.dispose()


def private_pg_url(suffix: str) -> str:
    """A PostgreSQL database of our own beside TEST_DATABASE_URL (the session app's stays)."""
    url = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{url.database}_{suffix}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if not exists:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


def reset_schema(app) -> None:
    with app.app_context():
        _db.drop_all()
        if _db.engine.dialect.name == "postgresql":
            with _db.engine.begin() as conn:
                conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
        _db.create_all()


@pytest.fixture(scope="session")
def app(tmp_path_factory):
    compile_catalogs()
    tmp = tmp_path_factory.mktemp("instance")
    os.environ["CAUNOI_INSTANCE_PATH"] = str(tmp)
    config = make_config(tmp)
    wipe_database(config.SQLALCHEMY_DATABASE_URI)
    app = create_app(config)
    reset_schema(app)
    yield app
    with app.app_context():
        _db.engine.dispose()


@pytest.fixture(autouse=True)
def db(app, request):
    """Run each test inside an outer transaction that is rolled back afterwards.

    SQLAlchemy's "joining a session into an external transaction" recipe: the code under test
    commits freely; its commits release savepoints of the outer transaction.

    Tests marked `real_db` or `browser` build their own app and database with real commits
    (threads, a live server): for them `db.session` stays Flask-SQLAlchemy's own.
    """
    if request.node.get_closest_marker("real_db") or request.node.get_closest_marker("browser"):
        limiter.reset()
        yield _db
        return
    with app.app_context():
        connection = _db.engine.connect()
        outer = connection.begin()
        old_session = _db.session
        # Plain Session: Flask-SQLAlchemy's own get_bind would pick the engine, not our connection.
        _db.session = orm.scoped_session(
            orm.sessionmaker(
                bind=connection, join_transaction_mode="create_savepoint", query_cls=Query
            )
        )
        limiter.reset()
        # Jobs a test queued but did not run belong to its rolled-back data: never to the next.
        queued = getattr(app.extensions.get("jobs"), "jobs", None)
        if isinstance(queued, list):
            queued.clear()
        try:
            yield _db
        finally:
            _db.session.remove()
            _db.session = old_session
            outer.rollback()
            connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def fresh_g_per_request(app):
    """Give every test request an empty `g`, as a real server does.

    The `db` fixture keeps one app context pushed for the whole test, and Flask reuses it for
    each request, so `g` (Flask-Login's current user, the cached actor, the throttle marks)
    would otherwise leak from one request into the next and hide real behaviour (that a
    disabled user's next request is refused, for one). A package's conftest turns it on for
    all its tests with an autouse fixture that requests it.
    """
    from flask import g, request_started

    def clear_g(sender, **extra):
        g.__dict__.clear()

    request_started.connect(clear_g, app)
    yield
    request_started.disconnect(clear_g, app)


@dataclass
class World:
    """Two districts of one province, a commune in each, and one user per role."""

    province: object
    district_a: object
    district_b: object
    commune_a: object
    commune_b: object
    users: dict


@pytest.fixture
def world(db):
    from app.orgs.models import OrgLevel
    from app.permissions import Role

    province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
    district_a = OrgUnitFactory(
        code="37-A", name="Huyện A", level=OrgLevel.DISTRICT, parent=province
    )
    district_b = OrgUnitFactory(
        code="37-B", name="Huyện B", level=OrgLevel.DISTRICT, parent=province
    )
    commune_a = OrgUnitFactory(
        code="37-A1", name="Xã Ninh Hải", level=OrgLevel.COMMUNE, parent=district_a
    )
    commune_b = OrgUnitFactory(
        code="37-B1", name="Xã Kim Đông", level=OrgLevel.COMMUNE, parent=district_b
    )
    users = {
        "admin": UserFactory(username="admin", role=Role.ADMIN, org_unit=province),
        "supervisor": UserFactory(username="supervisor", role=Role.SUPERVISOR, org_unit=province),
        "caseworker": UserFactory(username="caseworker", role=Role.CASEWORKER, org_unit=district_a),
        "caseworker_b": UserFactory(
            username="caseworker_b", role=Role.CASEWORKER, org_unit=district_b
        ),
        "volunteer": UserFactory(username="volunteer", role=Role.VOLUNTEER, org_unit=commune_a),
        "volunteer_b": UserFactory(username="volunteer_b", role=Role.VOLUNTEER, org_unit=commune_b),
        "partner": UserFactory(username="partner", role=Role.PARTNER, org_unit=district_a),
        "auditor": UserFactory(username="auditor", role=Role.AUDITOR, org_unit=province),
    }
    _db.session.commit()
    return World(province, district_a, district_b, commune_a, commune_b, users)


@pytest.fixture
def seeded_app(tmp_path):
    """An app of its own (tests/live.py) with the demo org units and users, password PASSWORD."""
    from app.orgs.demo import seed
    from tests.live import own_app

    app = own_app(tmp_path)
    with app.app_context():
        seed(PASSWORD)
        _db.session.commit()
    yield app
    # On PostgreSQL this is the suite's database: leave it empty for the tests that follow.
    reset_schema(app)
    with app.app_context():
        _db.engine.dispose()


def sign_in(client, username: str, password: str = PASSWORD, **kwargs):
    return client.post("/auth/sign-in", data={"username": username, "password": password}, **kwargs)


@pytest.fixture
def login_as(client):
    """login_as(user) signs the test client in through the real sign-in form."""

    def _login(user, password: str = PASSWORD):
        response = sign_in(client, user.username, password)
        assert response.status_code == 302, response.status_code
        return client

    return _login


def audit_actions() -> list[str]:
    from app.audit.models import AuditEvent

    return list(
        _db.session.execute(sa.select(AuditEvent.action).order_by(AuditEvent.seq)).scalars()
    )
