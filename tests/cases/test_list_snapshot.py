"""The case list reads in a snapshot without the SQLite write lock (app/db.py `reads_first`):
another writer is not held up by it, the page's audit event still appends to one chain, and
the session's own writes (last seen, expiry) take the lock first. Real commits on a file."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.models import AuthSession
from app.cases import queries
from app.cases.models import Case
from app.db import READ_SNAPSHOT, begin_writing, utcnow
from app.extensions import db
from app.orgs.models import OrgLevel
from app.permissions import Role
from tests.cases.conftest import open_case
from tests.conftest import sign_in
from tests.factories import OrgUnitFactory, UserFactory
from tests.live import own_app

pytestmark = pytest.mark.real_db


@pytest.fixture
def app(tmp_path):
    app = own_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/snapshot.sqlite3")
    with app.app_context():
        unit = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
        user = UserFactory(username="caseworker", role=Role.CASEWORKER, org_unit=unit)
        db.session.commit()
        open_case(user, unit)
        open_case(user, unit)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    client = app.test_client()
    assert sign_in(client, "caseworker").status_code == 302
    return client


def _database_path(app) -> str:
    return app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        return list(
            db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars()
        )


def _age_session(app, minutes: int) -> None:
    with app.app_context():
        db.session.execute(
            sa.update(AuthSession).values(last_seen_at=utcnow() - timedelta(minutes=minutes))
        )
        db.session.commit()


def _another_writer_commits(app) -> bool:
    """Another connection writes and commits without waiting at all: "database is locked" if
    the page under test held SQLite's write lock."""
    other = sqlite3.connect(_database_path(app), timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("UPDATE org_units SET name = name || ' (đổi tên)'")
        other.execute("COMMIT")
        return True
    finally:
        other.close()


def _another_writer_after(monkeypatch, app, query: str) -> list[bool]:
    """After the page's read `queries.<query>`, another writer that may not wait at all; the
    list returned gets True each time it committed."""
    read = getattr(queries, query)
    wrote: list[bool] = []

    def then_another_writer(*args, **kwargs):
        found = read(*args, **kwargs)
        wrote.append(_another_writer_commits(app))
        return found

    monkeypatch.setattr(queries, query, then_another_writer)
    return wrote


def test_another_writer_commits_while_the_page_reads(app, client, monkeypatch):
    wrote = _another_writer_after(monkeypatch, app, "incoming_transfers")
    response = client.get("/cases/")
    assert response.status_code == 200 and wrote == [True]
    # The snapshot it read from is stale now; its audit event appended anyway, after the write.
    assert "(đổi tên)" not in response.get_data(as_text=True)
    assert len(_events(app, "case.viewed")) == 1
    with app.app_context():
        from app.audit.verify import verify_database
        from app.crypto.keyring import keyring

        assert verify_database(db.engine, keyring().audit_key).ok


def test_a_write_in_the_snapshot_is_refused_until_it_takes_the_lock(app):
    with app.app_context():
        db.session.connection(execution_options={READ_SNAPSHOT: True})
        db.session.execute(sa.select(AuthSession.id)).all()
        with pytest.raises(RuntimeError, match="begin_writing"):
            db.session.execute(sa.update(AuthSession).values(end_reason="x"))
        db.session.rollback()
        db.session.connection(execution_options={READ_SNAPSHOT: True})
        db.session.execute(sa.select(AuthSession.id)).all()
        begin_writing(db.session)
        db.session.execute(sa.update(AuthSession).values(end_reason=None))
        db.session.commit()
        # The next transaction on the same pooled connection may write from the start.
        db.session.execute(sa.update(AuthSession).values(end_reason=None))
        db.session.commit()


def test_the_page_still_records_that_the_session_was_seen(app, client):
    _age_session(app, minutes=1)
    assert client.get("/cases/").status_code == 200
    with app.app_context():
        seen = db.session.execute(sa.select(AuthSession.last_seen_at)).scalar_one()
    assert utcnow() - seen < timedelta(seconds=30)


def test_an_idle_session_is_ended_from_the_page(app, client):
    _age_session(app, minutes=20)
    response = client.get("/cases/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]
    with app.app_context():
        ended = db.session.execute(sa.select(AuthSession.end_reason)).scalar_one()
    assert ended == "idle"
    assert len(_events(app, "auth.session_expired")) == 1
    assert _events(app, "case.viewed") == []


def test_a_search_reads_without_the_write_lock(app, client, monkeypatch):
    """The search (a POST, so that the term never reaches a URL) reads in a snapshot too."""
    wrote = _another_writer_after(monkeypatch, app, "search_cases")
    app.config["WTF_CSRF_ENABLED"] = False
    response = client.post("/cases/search", data={"q": "Lê Thị Mẫu"})
    assert response.status_code == 200 and wrote == [True]
    assert len(_events(app, "case.viewed")) == 1  # the search's list event, after the write


def test_the_case_page_reads_and_decrypts_without_the_write_lock(app, client, monkeypatch):
    """The case page reads (its history last) before it records the view: another writer does
    not wait behind a page decrypting a case; the view is still recorded, after that write."""
    wrote = _another_writer_after(monkeypatch, app, "case_access_history")
    with app.app_context():
        code = db.session.execute(sa.select(Case.code).limit(1)).scalar_one()
    # From the list to the case (her session's idle limit changes) a minute after her last
    # page (its last-seen time too): the session's writes are committed before the page reads.
    _age_session(app, minutes=1)
    response = client.get(f"/cases/{code}")
    assert response.status_code == 200 and wrote == [True]
    assert "Lê Thị Mẫu" in response.get_data(as_text=True)
    assert [e.object_ref for e in _events(app, "case.viewed")] == [code]
    with app.app_context():
        seen, long_form = db.session.execute(
            sa.select(AuthSession.last_seen_at, AuthSession.is_on_long_form)
        ).one()
    assert utcnow() - seen < timedelta(seconds=30) and long_form
    # And back to the list: the idle limit changes again, the list still reads unlocked.
    wrote = _another_writer_after(monkeypatch, app, "incoming_transfers")
    assert client.get("/cases/").status_code == 200 and wrote == [True]
