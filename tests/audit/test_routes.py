"""The audit viewer: who sees what, filters, pages, CSV export, and the viewing itself audited."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa

from app.audit import services
from app.audit.models import AuditEvent
from app.permissions import Actor, Role
from tests.conftest import audit_actions
from tests.factories import UserFactory
from tests.html import has_inline_script


def _actor(user) -> Actor:
    return Actor.from_user(user)


@pytest.fixture
def events(db, world):
    """One case view in each district, and a system event without an org unit."""
    services.record(
        _actor(world.users["caseworker"]),
        "case.viewed",
        object_type="case",
        object_ref="NB-2026-00001",
    )
    services.record(
        _actor(world.users["caseworker_b"]),
        "case.viewed",
        object_type="case",
        object_ref="NB-2026-00002",
    )
    services.record(Actor.system("cli"), "key.rotated", object_type="keyring", object_ref="2")
    db.session.commit()


def _case_views(db, world, n: int) -> None:
    """The caseworker viewed cases NB-2026-00001 .. n, in that order."""
    actor = _actor(world.users["caseworker"])
    for i in range(1, n + 1):
        services.record(actor, "case.viewed", object_type="case", object_ref=f"NB-2026-{i:05d}")
    db.session.commit()


def _table(response) -> str:
    """The results table only (the action filter lists every action name)."""
    html = response.get_data(as_text=True)
    return html.split("<table", 1)[1] if "<table" in html else ""


def _last(db, action: str) -> AuditEvent:
    return (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
        )
        .scalars()
        .first()
    )


def test_admin_sees_everything(client, world, events, login_as):
    login_as(world.users["admin"])
    page = client.get("/audit/")
    assert page.status_code == 200
    html = _table(page)
    for ref in ("NB-2026-00001", "NB-2026-00002", "key.rotated"):
        assert ref in html
    assert "Nhật ký truy cập và thay đổi" in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"


def test_auditor_sees_only_their_subtree(client, db, world, events, login_as):
    district_auditor = UserFactory(username="aud_a", role=Role.AUDITOR, org_unit=world.district_a)
    db.session.commit()
    login_as(district_auditor)
    html = _table(client.get("/audit/"))
    assert "NB-2026-00001" in html
    assert "NB-2026-00002" not in html  # district B
    assert "key.rotated" not in html  # no org unit: admins only
    export = client.get("/audit/export.csv").get_data(as_text=True)
    assert "NB-2026-00001" in export and "NB-2026-00002" not in export
    # A filter cannot widen the scope.
    assert "NB-2026-00002" not in _table(client.get("/audit/?org_unit=37-B"))
    assert "NB-2026-00002" not in _table(client.get("/audit/?object_ref=NB-2026-00002"))


def test_province_auditor_sees_both_districts(client, db, world, events, login_as):
    auditor = UserFactory(username="aud", role=Role.AUDITOR, org_unit=world.province)
    db.session.commit()
    login_as(auditor)
    html = _table(client.get("/audit/"))
    assert "NB-2026-00001" in html and "NB-2026-00002" in html
    assert "key.rotated" not in html


@pytest.mark.parametrize("role", ["caseworker", "volunteer", "partner"])
@pytest.mark.parametrize("url", ["/audit/", "/audit/export.csv"])
def test_other_roles_are_refused_and_audited(client, db, world, login_as, role, url):
    login_as(world.users[role])
    assert client.get(url).status_code == 403
    db.session.rollback()  # the denial was committed on its own: it survives this
    denied = _last(db, "access.denied")
    assert denied.outcome == "denied" and denied.actor_username == world.users[role].username
    assert json.loads(denied.details)["endpoint"] in ("audit.index", "audit.export_csv")
    assert "audit.viewed" not in audit_actions() and "audit.exported" not in audit_actions()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get("/audit/")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_viewing_is_audited_with_safe_filters(client, db, world, events, login_as):
    login_as(world.users["admin"])
    client.get(
        "/audit/?username=caseworker&action=case.viewed&object_ref=NB-2026-00001"
        "&org_unit=37-A&since=2026-01-01&until=2099-12-31"
    )
    viewed = _last(db, "audit.viewed")
    assert viewed.actor_username == "admin" and viewed.object_type == "audit_log"
    assert json.loads(viewed.details)["filters"] == {
        "username": "caseworker",
        "action": "case.viewed",
        "object_ref": "NB-2026-00001",
        "org_unit": "37-A",
        "since": "2026-01-01",
        "until": "2099-12-31",
    }


@pytest.mark.parametrize(
    "query, present, absent",
    [
        ("username=caseworker_b", ["NB-2026-00002"], ["NB-2026-00001"]),
        ("username=CASEWORKER_B", ["NB-2026-00002"], ["NB-2026-00001"]),
        ("action=key.rotated", ["key.rotated"], ["NB-2026-00001"]),
        ("object_ref=NB-2026-00001", ["NB-2026-00001"], ["NB-2026-00002"]),
        ("org_unit=37-A", ["NB-2026-00001"], ["NB-2026-00002"]),
        ("org_unit=37", ["NB-2026-00001", "NB-2026-00002"], ["key.rotated"]),
        ("org_unit=nope", [], ["NB-2026-00001", "NB-2026-00002"]),
        ("since=2000-01-01&until=2000-12-31", [], ["NB-2026-00001"]),
        ("since=01/01/2000", ["NB-2026-00001"], []),
    ],
)
def test_filters(client, world, events, login_as, query, present, absent):
    login_as(world.users["admin"])
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 200
    table = _table(response)
    for text in present:
        assert text in table
    for text in absent:
        assert text not in table


@pytest.mark.parametrize(
    "query",
    [
        "since=31/02/2026",
        "since=2026-13-01",
        "action=case.teleported",
        "since=2026-05-02&until=2026-05-01",
        "username=" + "x" * 65,
    ],
)
def test_bad_filters_are_400_and_nothing_is_recorded(client, world, login_as, query):
    login_as(world.users["admin"])
    response = client.get(f"/audit/?{query}")
    assert response.status_code == 400
    assert "has-error" in response.get_data(as_text=True)
    assert "audit.viewed" not in audit_actions()
    assert client.get(f"/audit/export.csv?{query}").status_code == 400
    assert "audit.exported" not in audit_actions()


def test_pages_of_fifty_newest_first(client, db, world, login_as):
    _case_views(db, world, 120)
    login_as(world.users["admin"])
    html = client.get("/audit/?action=case.viewed").get_data(as_text=True)
    refs = re.findall(r"<code>(NB-2026-\d{5})</code>", html)
    assert len(refs) == 50 and refs[0] == "NB-2026-00120" and refs[-1] == "NB-2026-00071"
    assert "page=2" in html and "action=case.viewed" in html  # the pager keeps the filters
    html = client.get("/audit/?action=case.viewed&page=3").get_data(as_text=True)
    refs = re.findall(r"<code>(NB-2026-\d{5})</code>", html)
    assert refs[0] == "NB-2026-00020" and refs[-1] == "NB-2026-00001" and len(refs) == 20
    assert client.get("/audit/?page=999").status_code == 200


def test_csv_export_is_the_filtered_view_and_is_audited(client, db, world, events, login_as):
    login_as(world.users["admin"])
    response = client.get("/audit/export.csv?org_unit=37-A&action=case.viewed")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [(r["actor_username"], r["object_ref"], r["org_unit"]) for r in rows] == [
        ("caseworker", "NB-2026-00001", "37-A")
    ]
    exported = _last(db, "audit.exported")
    details = json.loads(exported.details)
    assert details["filters"] == {"org_unit": "37-A", "action": "case.viewed"}
    assert (details["rows"], details["format"], details["via"]) == (1, "csv", "web")
    assert exported.actor_username == "admin" and exported.outcome == "success"


def test_csv_export_streams_many_rows_in_batches(client, db, world, login_as, monkeypatch):
    from app.audit import queries

    monkeypatch.setattr(queries, "EXPORT_BATCH", 7)
    _case_views(db, world, 30)
    login_as(world.users["admin"])
    text = client.get("/audit/export.csv?action=case.viewed").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert [r["object_ref"] for r in rows] == [f"NB-2026-{n:05d}" for n in range(30, 0, -1)]
    assert json.loads(_last(db, "audit.exported").details)["rows"] == 30


def test_csv_cells_cannot_become_formulas(client, db, world, login_as):
    services.record(
        _actor(world.users["admin"]),
        "case.viewed",
        object_type="case",
        object_ref="=HYPERLINK(1)",
        reason="+cmd",
    )
    db.session.commit()
    login_as(world.users["admin"])
    text = client.get("/audit/export.csv?action=case.viewed").get_data(as_text=True)
    row = next(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert row["object_ref"] == "'=HYPERLINK(1)" and row["reason"] == "'+cmd"


@pytest.mark.parametrize(
    "role, shown",
    [("admin", True), ("supervisor", True), ("caseworker", False), ("volunteer", False)],
)
def test_home_panel(client, world, login_as, role, shown):
    login_as(world.users[role])
    html = client.get("/home").get_data(as_text=True)
    assert ("/audit/" in html) is shown


def test_page_has_no_inline_script_or_style(client, world, events, login_as):
    login_as(world.users["admin"])
    html = client.get("/audit/").get_data(as_text=True)
    assert "style=" not in html and not has_inline_script(html)


def test_page_in_english(client, world, events, login_as):
    # (Flask-Babel caches the locale in `g`, which the `db` fixture's app context keeps for the
    # whole test: choose the language before the first page.)
    with client.session_transaction() as s:
        s["lang"] = "en"
    login_as(world.users["admin"])
    html = client.get("/audit/?since=99/99/2026").get_data(as_text=True)
    assert "Access and change log" in html and "Clear filters" in html
    assert "enter it as dd/mm/yyyy" in html  # (another catalog may word it too)
