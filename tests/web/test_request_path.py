"""The request path: pages read before they write (SQLite's write lock only at the first write),
a database that does not answer gives a 503 page that retries, and PostgreSQL connections carry
their settings (statement_timeout, no JIT) instead of each request setting them."""

from __future__ import annotations

import os
import shutil

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orgs.models import OrgLevel
from app.permissions import Role
from tests.cases.conftest import open_case
from tests.conftest import other_backend, sign_in
from tests.factories import OrgUnitFactory, UserFactory
from tests.live import own_app

pytestmark = pytest.mark.real_db

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def app(tmp_path):
    app = own_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/db/request.sqlite3")
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
        commune = OrgUnitFactory(code="37-A", name="Xã A", level=OrgLevel.COMMUNE, parent=province)
        for role in Role:
            UserFactory(username=str(role), role=role, org_unit=province)
        caseworker = UserFactory(username="cw", role=Role.CASEWORKER, org_unit=province)
        db.session.commit()
        app.config["TEST_CASE_CODE"] = open_case(caseworker, commune).code
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _get_pages(app) -> list[str]:
    """Every GET page without URL arguments, and the case page."""
    urls = [
        rule.rule
        for rule in app.url_map.iter_rules()
        if "GET" in (rule.methods or ()) and not rule.arguments and rule.endpoint != "static"
    ]
    return [*urls, f"/cases/{app.config['TEST_CASE_CODE']}"]


@pytest.mark.parametrize("username", ["cw", "supervisor", "admin", "volunteer", "auditor"])
def test_no_get_takes_the_write_lock_before_its_first_write(app, username):
    """Each GET's transaction begins as a read snapshot (plain BEGIN); BEGIN IMMEDIATE comes
    only from `begin_writing`, just before a write, and no page fails for lack of it."""
    if username not in {str(r) for r in Role} | {"cw"}:
        pytest.skip(f"no {username} role here")
    client = app.test_client()
    assert sign_in(client, username).status_code == 302
    statements: list[str] = []

    def log(conn, cursor, statement, parameters, context, executemany):
        statements.append(
            statement.lstrip().split(None, 2)[0].upper()
            + (" IMMEDIATE" if statement.strip().upper() == "BEGIN IMMEDIATE" else "")
        )

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", log)
    try:
        for url in _get_pages(app):
            statements.clear()
            response = client.get(url)
            assert response.status_code < 500, (url, response.status_code)
            begins = [s for s in statements if s.startswith("BEGIN")]
            if not begins:
                continue
            assert begins[0] == "BEGIN", (url, statements)
            for i, statement in enumerate(statements):
                if statement == "BEGIN IMMEDIATE":
                    # What follows the lock is the write it was taken for (the audit event's
                    # head lock and number are reads that belong to the write).
                    assert any(s in WRITES for s in statements[i + 1 : i + 6]), (
                        url,
                        " ".join(statements),
                    )
    finally:
        sa.event.remove(engine, "before_cursor_execute", log)


def test_database_unavailable_answers_503_that_retries(app, tmp_path):
    client = app.test_client()
    assert sign_in(client, "cw").status_code == 302
    assert client.get("/cases/").status_code == 200
    folder = tmp_path / "db"
    with app.app_context():
        db.engine.dispose()
    shutil.move(folder, tmp_path / "moved")  # the database is gone for a moment
    try:
        for url in ("/cases/", "/health"):
            response = client.get(url)
            assert response.status_code == 503, url
            assert response.headers["Retry-After"] == "5"
            page = response.get_data(as_text=True)
            assert "Hệ thống tạm thời gián đoạn" in page
            assert 'http-equiv="refresh"' in page and "Thử lại ngay" in page
        api = client.get("/api/v1/cases")
        assert api.status_code == 503 and api.json["status"] == 503
    finally:
        shutil.move(tmp_path / "moved", folder)
    assert client.get("/cases/").status_code == 200  # back: the next try works


def test_503_page_in_english(app, tmp_path):
    client = app.test_client()
    client.post("/language", data={"lang": "en"})
    with app.app_context():
        db.engine.dispose()
    shutil.move(tmp_path / "db", tmp_path / "moved")
    try:
        response = client.get("/health")
    finally:
        shutil.move(tmp_path / "moved", tmp_path / "db")
    assert response.status_code == 503
    assert "temporarily unavailable" in response.get_data(as_text=True).lower()


def test_postgresql_connections_carry_their_settings(tmp_path):
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith("postgresql"):
        pytest.skip(
            other_backend("needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://...")
        )
    from tests.conftest import private_pg_url

    app = own_app(
        tmp_path, SQLALCHEMY_DATABASE_URI=private_pg_url("path"), DATABASE_STATEMENT_TIMEOUT_MS=300
    )
    try:
        with app.app_context():
            assert db.engine.pool._pre_ping is False
            assert db.session.execute(sa.text("SHOW statement_timeout")).scalar() == "300ms"
            assert db.session.execute(sa.text("SHOW jit")).scalar() == "off"
            # psycopg prepares a statement run five times; PostgreSQL then switches it to a
            # generic plan that ignores the values: "my cases" went from 6 to 44 ms a page
            # after ten requests (a million cases). Every run is planned for its own values.
            probe = sa.text("SELECT count(*) FROM org_units WHERE id = :id")
            for _ in range(12):
                db.session.execute(probe, {"id": 1}).scalar()
            generic = db.session.execute(
                sa.text("SELECT sum(generic_plans), sum(custom_plans) FROM pg_prepared_statements")
            ).one()
            assert generic[0] == 0 and generic[1] >= 5, generic
            with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
                db.session.execute(sa.text("SELECT pg_sleep(2)"))
            db.session.rollback()
            # A page whose statement runs too long answers 503, not 500, and holds nothing.
            client = app.test_client()
            app.config["DATABASE_STATEMENT_TIMEOUT_MS"] = 1
            assert client.get("/health").status_code in (200, 503)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_the_bell_count_comes_with_the_session_lookup(app):
    """The unread count rides on the session's own statement: no page counts notifications in
    a statement of its own, and the bell still shows the count as it is at that request."""
    from app.notifications.kinds import Kind
    from app.notifications.outbox import notify
    from app.orgs.models import User

    client = app.test_client()
    assert sign_in(client, "cw").status_code == 302
    statements: list[str] = []

    def log(conn, cursor, statement, parameters, context, executemany):
        statements.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", log)
    try:
        for expected in (0, 1, 2):
            if expected:
                with app.app_context():
                    user = db.session.execute(
                        sa.select(User).where(User.username == "cw")
                    ).scalar_one()
                    notify([user], Kind.CASE_ASSIGNED, link="/cases/", params={})
                    db.session.commit()
            statements.clear()
            page = client.get("/account/api-tokens").get_data(as_text=True)
            assert f'data-count="{expected}"' in page, expected
            alone = [
                s for s in statements if s.startswith("SELECT count(*)") and "notifications" in s
            ]
            assert not alone, alone
            assert any("FROM auth_sessions" in s and "notifications" in s for s in statements)
        # A POST answered with a page (the search) shows the bell from the same lookup.
        statements.clear()
        page = client.post("/cases/search", data={"q": "Lan"}).get_data(as_text=True)
        assert 'data-count="2"' in page
        alone = [s for s in statements if s.startswith("SELECT count(*)") and "notifications" in s]
        assert not alone, alone
    finally:
        sa.event.remove(engine, "before_cursor_execute", log)
