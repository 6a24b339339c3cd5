"""The `auditor` role: case-level audit of its subtree, never case contents, 404 outside; its
reads audited. And supervisors: staff activity only, no case-level attribute."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
import sqlalchemy as sa

from app.audit import activity
from app.audit.actions import ACTIONS
from app.audit.models import AuditEvent
from app.cases import tokens
from app.permissions import Actor, Role
from tests.cases.conftest import open_case
from tests.factories import UserFactory
from tests.referrals.conftest import forget_signed_in_user

CODE = re.compile(r"[A-Z]{1,4}-\d{4}-\d{5,}")


@pytest.fixture
def scene(db, world):
    """A case in each district, an auditor of each district (the world's is the province's)."""
    users = world.users
    users["auditor_a"] = UserFactory(
        username="auditor_a", role=Role.AUDITOR, org_unit=world.district_a
    )
    users["auditor_b"] = UserFactory(
        username="auditor_b", role=Role.AUDITOR, org_unit=world.district_b
    )
    db.session.commit()
    case_a = open_case(users["caseworker"], world.commune_a)
    case_b = open_case(users["caseworker_b"], world.commune_b)
    return world, case_a.code, case_b.code


def _last(db, action: str) -> AuditEvent:
    stmt = sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
    return db.session.execute(stmt).scalars().first()


# (method, url template, role) -> status. {a}: a case of district A; {b}: of district B.
MATRIX = [
    # The trail itself.
    ("/audit/", "admin", 200),
    ("/audit/", "auditor_a", 200),
    ("/audit/", "supervisor", 200),
    ("/audit/", "caseworker", 403),
    ("/audit/", "partner", 403),
    ("/audit/export.csv", "auditor_a", 200),
    ("/audit/export.csv", "supervisor", 200),
    ("/audit/export.csv", "volunteer", 403),
    # One case's trail: in scope 200, another subtree's case 404, other roles 403.
    ("/audit/cases/{a}", "auditor_a", 200),
    ("/audit/cases/{a}", "auditor", 200),
    ("/audit/cases/{a}", "admin", 200),
    ("/audit/cases/{a}", "auditor_b", 404),
    ("/audit/cases/{b}", "auditor_a", 404),
    ("/audit/cases/NB-2099-99999", "auditor_a", 404),
    ("/audit/cases/{a}", "supervisor", 403),
    ("/audit/cases/{a}", "caseworker", 403),
    ("/audit/cases/{a}", "partner", 403),
    ("/audit/cases/{a}/export.csv", "auditor_a", 200),
    ("/audit/cases/{a}/export.csv", "auditor_b", 404),
    ("/audit/cases/{b}/export.csv", "auditor_a", 404),
    ("/audit/cases/{a}/export.csv", "supervisor", 403),
    # Never the contents: no case page, printout, edit, list or referrals, even in scope.
    ("/cases/{a}", "auditor_a", 404),
    ("/cases/{a}/print", "auditor_a", 404),
    ("/cases/{a}/edit", "auditor_a", 404),
    ("/cases/{a}/referrals", "auditor_a", 403),
    ("/cases/", "auditor_a", 403),
    ("/reports/", "auditor_a", 403),
    ("/referrals/", "auditor_a", 403),
    ("/reports/report.csv", "auditor_a", 403),
    ("/partners/export.json", "auditor_a", 403),
    ("/outreach/", "auditor_a", 403),
]


@pytest.mark.parametrize("url, role, status", MATRIX)
def test_pages_matrix(client, db, scene, login_as, url, role, status):
    world, code_a, code_b = scene
    login_as(world.users[role])
    response = client.get(url.format(a=code_a, b=code_b))
    assert response.status_code == status, response.status_code
    if status == 404:
        denied = _last(db, "access.denied")
        assert denied.actor_username == world.users[role].username


API_MATRIX = [
    ("/api/v1/audit/cases/{a}", "auditor_a", 200),
    ("/api/v1/audit/cases/{a}", "auditor", 200),
    ("/api/v1/audit/cases/{a}", "auditor_b", 404),
    ("/api/v1/audit/cases/{b}", "auditor_a", 404),
    ("/api/v1/audit/cases/{a}", "supervisor", 403),
    ("/api/v1/audit/cases/{a}", "caseworker", 403),
    ("/api/v1/cases/{a}", "auditor_a", 404),
    ("/api/v1/cases/{a}/needs", "auditor_a", 404),
    ("/api/v1/cases", "auditor_a", 403),
    ("/api/v1/referrals", "auditor_a", 403),
]


@pytest.mark.parametrize("url, role, status", API_MATRIX)
def test_api_matrix(client, db, scene, url, role, status):
    world, code_a, code_b = scene
    _token, plain = tokens.create_api_token(Actor.from_user(world.users[role]), "test")
    db.session.commit()
    forget_signed_in_user()
    response = client.get(
        url.format(a=code_a, b=code_b), headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == status, response.status_code


def test_auditor_sees_codes_actions_actors_times_but_no_contents(client, db, scene, login_as):
    world, code_a, code_b = scene
    login_as(world.users["auditor_a"])
    html = client.get(f"/audit/cases/{code_a}").get_data(as_text=True)
    assert code_a in html and "Mở hồ sơ" in html and "caseworker" in html
    # Nothing the case holds: no name, phone, need category, consent purpose or method.
    for secret in ("Lê Thị Mẫu", "08000", "vocational_training", "share:", "verbal"):
        assert secret not in html
    listing = client.get("/audit/").get_data(as_text=True)
    assert code_a in listing and code_b not in listing
    assert f"/audit/cases/{code_a}" in listing  # the list links to the case's trail
    assert "/account/api-tokens" in listing  # and tells how to reach the API
    export = client.get("/audit/export.csv").get_data(as_text=True)
    header = next(csv.reader(io.StringIO(export.lstrip("\ufeff"))))
    assert "details" not in header and "reason" not in header
    assert code_a in export and "share:" not in export and "vocational_training" not in export


def test_the_auditors_reads_are_audited(client, db, scene, login_as):
    world, code_a, _code_b = scene
    login_as(world.users["auditor_a"])
    client.get(f"/audit/cases/{code_a}")
    viewed = _last(db, "audit.viewed")
    assert viewed.actor_username == "auditor_a"
    assert json.loads(viewed.details)["filters"] == {"object_ref": code_a}
    text = client.get(f"/audit/cases/{code_a}/export.csv").get_data(as_text=True)
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows and {r["object_ref"] for r in rows} == {code_a}
    exported = _last(db, "audit.exported")
    details = json.loads(exported.details)
    assert exported.actor_username == "auditor_a" and details["report"] == "case"
    assert details["rows"] == len(rows) and details["filters"] == {"object_ref": code_a}
    client.get("/audit/?action=case.created")
    assert json.loads(_last(db, "audit.viewed").details)["filters"] == {"action": "case.created"}


def test_api_read_is_audited_and_carries_no_contents(client, db, scene):
    world, code_a, _code_b = scene
    _token, plain = tokens.create_api_token(Actor.from_user(world.users["auditor_a"]), "test")
    db.session.commit()
    forget_signed_in_user()
    response = client.get(
        f"/api/v1/audit/cases/{code_a}", headers={"Authorization": f"Bearer {plain}"}
    )
    body = response.get_json()
    assert body["case_code"] == code_a
    assert "case.created" in [i["action"] for i in body["items"]]
    assert set(body["items"][0]) == {
        "seq",
        "occurred_at",
        "actor_username",
        "actor_role",
        "org_unit",
        "action",
        "outcome",
    }
    viewed = _last(db, "audit.viewed")
    assert viewed.actor_username == "auditor_a"
    assert json.loads(viewed.details)["via"] == "api"


def test_a_typed_code_from_another_subtree_stays_out_of_scope(client, db, scene, login_as):
    """A denial recorded in the auditor's own unit must not make the case visible later."""
    world, _code_a, code_b = scene
    login_as(world.users["auditor_a"])
    assert client.get(f"/audit/cases/{code_b}").status_code == 404
    assert client.get(f"/audit/cases/{code_b}").status_code == 404


def test_erased_case_keeps_its_trail_for_the_auditor(client, db, scene, login_as):
    from app.cases import rights
    from app.cases.models import Case

    world, code_a, _code_b = scene
    case = db.session.execute(sa.select(Case).where(Case.code == code_a)).scalar_one()
    rights.erase_case(Actor.from_user(world.users["caseworker"]), case, code_a, "her_request")
    db.session.commit()
    login_as(world.users["auditor_a"])
    html = client.get(f"/audit/cases/{code_a}").get_data(as_text=True)
    assert "Xoá vĩnh viễn hồ sơ" in html


def test_new_users_can_be_auditors(client, db, world, login_as):
    login_as(world.users["admin"])
    html = client.get("/admin/users/new").get_data(as_text=True)
    assert 'value="auditor"' in html


# -- supervisors: staff activity -----------------------------------------------------------------


def test_every_action_has_one_kind():
    assert {activity.kind_of(a) for a in ACTIONS} <= set(activity.KINDS)


def test_supervisor_sees_staff_activity_without_case_attributes(client, db, scene, login_as):
    world, code_a, code_b = scene
    login_as(world.users["supervisor"])
    page = client.get("/audit/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "caseworker" in html and "Làm việc với hồ sơ" in html
    assert not CODE.search(html)
    # The case's commune (the event's unit) never shows; the caseworker's own district does.
    assert "37-A1" not in html and "37-B1" not in html and "37-A" in html
    for attribute in ("case.created", "need.added", "consent.recorded", "vocational_training"):
        assert attribute not in html
    export = client.get("/audit/export.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows and set(rows[0]) == set(activity.EXPORT_COLUMNS)
    text = export.get_data(as_text=True)
    assert not CODE.search(text) and "37-A1" not in text and "case." not in text
    assert {r["kind"] for r in rows} >= {"case_work"}


def test_supervisor_counts_by_unit_and_kind(client, db, scene, login_as):
    world, *_codes = scene
    district_supervisor = UserFactory(
        username="sup_a", role=Role.SUPERVISOR, org_unit=world.district_a
    )
    db.session.commit()
    supervisor = Actor.from_user(district_supervisor)
    counts = activity.activity_counts(supervisor, activity.ActivityFilters())
    assert ("37-A", "case_work", 1) in counts  # caseworker (37-A) opened one case
    assert all(unit != "37-B" for unit, _kind, _n in counts)  # district B is not hers


@pytest.mark.parametrize(
    "query", ["object_ref={a}", "action=case.created", "kind=case_work&object_ref={a}"]
)
def test_supervisor_cannot_ask_about_a_case(client, db, scene, login_as, query):
    """The filters she may use say nothing about a case: object and action are ignored."""
    world, code_a, _code_b = scene
    login_as(world.users["supervisor"])
    response = client.get("/audit/?" + query.format(a=code_a))
    assert response.status_code == 200
    assert code_a not in response.get_data(as_text=True)
    recorded = json.loads(_last(db, "audit.viewed").details)["filters"]
    assert "object_ref" not in recorded and "action" not in recorded


def test_supervisor_bad_kind_is_400(client, db, scene, login_as):
    world, *_codes = scene
    login_as(world.users["supervisor"])
    assert client.get("/audit/?kind=case.viewed").status_code == 400
    assert client.get("/audit/export.csv?kind=nope").status_code == 400


def test_supervisor_reads_are_audited(client, db, scene, login_as):
    world, *_codes = scene
    login_as(world.users["supervisor"])
    client.get("/audit/?kind=case_work&org_unit=37-A")
    viewed = _last(db, "audit.viewed")
    assert viewed.actor_username == "supervisor"
    assert json.loads(viewed.details)["filters"] == {"kind": "case_work", "org_unit": "37-A"}
    client.get("/audit/export.csv")
    exported = _last(db, "audit.exported")
    assert json.loads(exported.details)["report"] == "staff_activity"


def test_partner_staff_activity_is_not_shown(client, db, scene, login_as):
    from app.audit import services

    world, *_codes = scene
    services.record(Actor.from_user(world.users["partner"]), "referral.viewed", object_ref="1")
    db.session.commit()
    supervisor = Actor.from_user(world.users["supervisor"])
    rows = activity.activity_page(supervisor, activity.ActivityFilters(), 1).items
    assert rows and "partner" not in {r.username for r in rows}
