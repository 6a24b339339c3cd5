"""Who may reach what: every case route, API endpoint and export × the five roles × two
communes. Out of scope is 404 and audited; in scope but not allowed is 403."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases import tokens
from app.extensions import db
from app.permissions import Actor
from tests.cases.conftest import open_case
from tests.conftest import sign_in

USERS = ("admin", "supervisor", "caseworker", "caseworker_b", "volunteer", "volunteer_b", "partner")
# Which of the two cases (A in commune A, B in commune B) each user may open.
VISIBLE = {"caseworker": {"A"}, "caseworker_b": {"B"}, "volunteer": {"A"}, "volunteer_b": {"B"}}
MANAGERS = {"caseworker", "caseworker_b"}

# (method, url template, kind): view = anyone in scope; note = caseworkers and volunteers in
# scope; manage = caseworkers in scope; incoming = only a caseworker of a transfer's target.
CASE_ROUTES = [
    ("GET", "/cases/{code}", "view"),
    ("POST", "/cases/{code}/notes", "note"),
    ("POST", "/cases/{code}/needs", "manage"),
    ("POST", "/cases/{code}/needs/{need_id}", "manage"),
    ("GET", "/cases/{code}/consents", "manage"),
    ("POST", "/cases/{code}/consents", "manage"),
    ("GET", "/cases/{code}/consents/{consent_id}/withdraw", "manage"),
    ("POST", "/cases/{code}/consents/{consent_id}/withdraw", "manage"),
    ("GET", "/cases/{code}/next-step", "manage"),
    ("POST", "/cases/{code}/status", "manage"),
    ("GET", "/cases/{code}/assignment", "manage"),
    ("POST", "/cases/{code}/assign", "manage"),
    ("POST", "/cases/{code}/transfer", "manage"),
    ("POST", "/cases/{code}/transfer/cancel", "manage"),
    ("POST", "/cases/{code}/transfer/accept", "incoming"),
    ("GET", "/cases/{code}/edit", "manage"),
    ("POST", "/cases/{code}/edit", "manage"),
    ("GET", "/cases/{code}/print", "manage"),
    ("POST", "/cases/{code}/restrict", "manage"),
    ("POST", "/cases/{code}/unrestrict", "manage"),
    ("GET", "/cases/{code}/erase", "manage"),
    ("POST", "/cases/{code}/erase", "manage"),
    ("GET", "/api/v1/cases/{code}", "view"),
    ("GET", "/api/v1/cases/{code}/needs", "view"),
    ("POST", "/api/v1/cases/{code}/needs", "manage"),
]

CASE_ROLES = {"caseworker", "caseworker_b", "volunteer", "volunteer_b"}
# (method, url, users allowed): everyone else gets 403 (roles) — these name no case.
PAGE_ROUTES = [
    ("GET", "/cases/", CASE_ROLES),
    ("POST", "/cases/search", CASE_ROLES),
    ("GET", "/cases/new", CASE_ROLES),
    ("GET", "/cases/import", MANAGERS),
    ("GET", "/cases/import/template.xlsx", MANAGERS),
    ("GET", "/cases/import/template.csv", MANAGERS),
    ("GET", "/cases/break-glass", {"admin"}),
    ("GET", "/account/api-tokens", set(USERS)),
    ("GET", "/api/v1/cases", CASE_ROLES),
    ("POST", "/api/v1/cases/search", CASE_ROLES),
    ("POST", "/api/v1/cases", CASE_ROLES),
]


@pytest.fixture
def two_cases(world):
    a = open_case(
        world.users["caseworker"], world.commune_a, assigned_to_id=world.users["volunteer"].id
    )
    b = open_case(
        world.users["caseworker_b"], world.commune_b, assigned_to_id=world.users["volunteer_b"].id
    )
    return {"A": a, "B": b}


def _request(client, user, method, url, **kw):
    if url.startswith("/api/"):
        _token, plain = tokens.create_api_token(Actor.from_user(user), "test")
        db.session.commit()
        return client.open(
            url, method=method, json={}, headers={"Authorization": f"Bearer {plain}"}
        )
    return client.open(url, method=method, data={})


def _expected(username: str, which: str, kind: str) -> set[int]:
    if kind == "incoming" or which not in VISIBLE.get(username, set()):
        return {404}
    if kind == "view":
        return {200}
    if kind == "note" or username in MANAGERS:
        return {200, 302, 400}
    return {403}


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize(
    ("method", "template", "kind"), CASE_ROUTES, ids=[f"{m} {t}" for m, t, _k in CASE_ROUTES]
)
def test_case_routes(client, world, two_cases, login_as, username, method, template, kind):
    user = world.users[username]
    if not template.startswith("/api/"):
        login_as(user)
    for which, case in two_cases.items():
        url = template.format(
            code=case.code, need_id=case.needs[0].id, consent_id=case.consents[-1].id
        )
        response = _request(client, user, method, url)
        expected = _expected(username, which, kind)
        assert response.status_code in expected, (
            username,
            which,
            method,
            url,
            response.status_code,
        )
        if response.status_code in (403, 404):
            event = db.session.execute(
                sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
            ).scalar_one()
            assert event.action == "access.denied" and event.outcome == "denied"
            assert event.object_ref == case.code and event.actor_username == username
        if response.status_code == 404 and url.startswith("/api/"):
            # A refusal says nothing about the case.
            assert case.code not in response.get_data(as_text=True)


@pytest.mark.parametrize("username", USERS)
@pytest.mark.parametrize(
    ("method", "url", "allowed"), PAGE_ROUTES, ids=[f"{m} {u}" for m, u, _a in PAGE_ROUTES]
)
def test_pages_by_role(client, world, two_cases, login_as, username, method, url, allowed):
    user = world.users[username]
    if not url.startswith("/api/"):
        login_as(user)
    response = _request(client, user, method, url)
    if username in allowed:
        assert response.status_code in (200, 400), (username, url, response.status_code)
    else:
        assert response.status_code == 403, (username, url, response.status_code)
        last = db.session.execute(
            sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
        ).scalar_one()
        assert last.action == "access.denied" and last.actor_username == username


def test_list_shows_only_the_scope(app, world, two_cases):
    codes = {which: case.code for which, case in two_cases.items()}
    for username, sees in VISIBLE.items():
        # A fresh app context per user: the test's outer context would share `g` (the actor).
        with app.app_context():
            client = app.test_client()
            assert sign_in(client, username).status_code == 302
            body = client.get("/cases/").get_data(as_text=True)
        for which, code in codes.items():
            assert (code in body) == (which in sees), (username, which)


def test_admin_opens_a_case_only_through_break_glass(client, world, two_cases, login_as):
    case = two_cases["B"]
    login_as(world.users["admin"])
    assert client.get(f"/cases/{case.code}").status_code == 404
    short = client.post("/cases/break-glass", data={"code": case.code, "reason": "vì"})
    assert short.status_code == 400
    response = client.post(
        "/cases/break-glass",
        data={"code": case.code, "reason": "Yêu cầu của cơ quan điều tra số 12"},
    )
    assert response.status_code == 302
    page = client.get(f"/cases/{case.code}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "<td>Truy cập khẩn cấp</td>" in body  # visible on the case's own audit panel
    assert "Yêu cầu của cơ quan điều tra số 12" in body
    # Read-only: an admin cannot change the case even inside the window.
    assert client.post(f"/cases/{case.code}/restrict").status_code == 403
    # Other cases stay closed.
    assert client.get(f"/cases/{two_cases['A'].code}").status_code == 404
    actions = [
        e.action
        for e in db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.object_ref == case.code)
        ).scalars()
    ]
    assert "breakglass.opened" in actions and "case.viewed" in actions


def test_break_glass_expires_after_30_minutes(client, world, two_cases, login_as):
    from datetime import timedelta

    from app.cases.models import BreakGlassGrant

    case = two_cases["A"]
    login_as(world.users["admin"])
    client.post("/cases/break-glass", data={"code": case.code, "reason": "Kiểm tra sự cố bảo mật"})
    grant = db.session.execute(sa.select(BreakGlassGrant)).scalar_one()
    assert grant.expires_at - grant.opened_at == timedelta(minutes=30)
    grant.expires_at = grant.opened_at - timedelta(seconds=1)
    db.session.commit()
    assert client.get(f"/cases/{case.code}").status_code == 404


def test_break_glass_for_a_missing_code_is_404(client, world, login_as):
    login_as(world.users["admin"])
    response = client.post(
        "/cases/break-glass", data={"code": "NB-2026-99999", "reason": "Kiểm tra sự cố bảo mật"}
    )
    assert response.status_code == 404


def test_volunteer_never_sees_health_or_violence_details(app, client, world, two_cases, login_as):
    code = two_cases["A"].code
    login_as(world.users["volunteer"])
    body = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "Chi tiết sức khỏe" not in body and "Chi tiết bạo lực" not in body
    assert "Y tế" not in body  # the health need is hidden too
    with app.app_context():
        other = app.test_client()
        sign_in(other, "caseworker")
        body = other.get(f"/cases/{code}").get_data(as_text=True)
    assert "Chi tiết sức khỏe" in body and "Chi tiết bạo lực" in body


def test_text_that_is_not_a_code_never_reaches_the_audit_trail(client, world, login_as):
    login_as(world.users["caseworker"])
    assert client.get("/cases/Nguyen-Thi-Hoa").status_code == 404
    event = db.session.execute(
        sa.select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
    ).scalar_one()
    assert event.action == "access.denied" and event.object_ref is None
