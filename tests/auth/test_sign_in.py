"""The sign-in form: success, refusals that look alike, fresh sessions, cookie flags."""

from __future__ import annotations

import sqlalchemy as sa
from argon2 import PasswordHasher

from app.audit.models import AuditEvent
from app.extensions import db
from tests.auth.conftest import COOKIE, cookie_session, current_auth_session
from tests.conftest import audit_actions, sign_in

REFUSED = "Tên đăng nhập hoặc mật khẩu không đúng."


def test_sign_in_success_opens_a_server_side_session(client, world):
    response = sign_in(client, "caseworker")
    assert response.status_code == 302
    assert response.headers["Location"] == "/home"
    auth_session = current_auth_session(client)
    assert auth_session is not None
    assert auth_session.user_id == world.users["caseworker"].id
    assert not auth_session.is_mfa_pending and auth_session.ended_at is None
    assert "auth.sign_in" in audit_actions()
    assert client.get("/home").status_code == 200


def test_username_is_matched_without_case_or_spaces(client, world):
    assert sign_in(client, "  CaseWorker ").status_code == 302


def test_wrong_password_is_refused_and_audited(client, world):
    response = sign_in(client, "caseworker", "not the right password")
    assert response.status_code == 401
    assert REFUSED in response.get_data(as_text=True)
    assert "_user_id" not in cookie_session(client)
    assert client.get("/home").status_code == 302
    event = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.sign_in_failed")
    ).scalar_one()
    assert event.outcome == "denied" and event.object_ref == "caseworker"


def test_unknown_user_answers_exactly_like_a_wrong_password(client, world, monkeypatch):
    calls = []
    real_verify = PasswordHasher.verify

    def counting_verify(self, hash, password):
        calls.append(1)
        return real_verify(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting_verify)

    wrong = sign_in(client, "caseworker", "not the right password")
    wrong_calls = len(calls)
    calls.clear()
    unknown = sign_in(client, "nobody-here", "not the right password")
    unknown_calls = len(calls)

    assert wrong.status_code == unknown.status_code == 401
    # Same page once the echoed username is set aside.
    wrong_body = wrong.get_data(as_text=True).replace("caseworker", "USERNAME")
    unknown_body = unknown.get_data(as_text=True).replace("nobody-here", "USERNAME")
    assert wrong_body == unknown_body
    assert (
        wrong.headers.get("Set-Cookie") is None or "caseworker" not in wrong.headers["Set-Cookie"]
    )
    # Similar time: both paths pay for exactly one argon2 verification.
    assert wrong_calls == unknown_calls == 1


def test_disabled_user_is_refused_like_a_wrong_password(client, world):
    world.users["caseworker"].is_enabled = False
    db.session.commit()
    response = sign_in(client, "caseworker")
    assert response.status_code == 401
    assert REFUSED in response.get_data(as_text=True)


def test_empty_form_is_a_clear_400(client, world):
    response = client.post("/auth/sign-in", data={"username": "", "password": ""})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "Hãy nhập tên đăng nhập." in body and "Hãy nhập mật khẩu." in body


def test_next_is_followed_only_within_the_site(client, world):
    ok = client.post(
        "/auth/sign-in?next=/auth/password",
        data={"username": "caseworker", "password": "correct horse battery staple"},
    )
    assert ok.headers["Location"] == "/auth/password"
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        fresh = client.application.test_client()
        response = sign_in(fresh, "caseworker", query_string={"next": target})
        assert response.headers["Location"] == "/home", target


def test_the_language_switch_returns_only_within_the_site(client):
    kept = client.post("/language", data={"lang": "en", "next": "/auth/sign-in"})
    assert kept.headers["Location"] == "/auth/sign-in"
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post("/language", data={"lang": "vi", "next": target})
        assert response.headers["Location"] == "/", target


def test_each_sign_in_gets_a_new_session_and_drops_the_old_cookie_content(client, world):
    with client.session_transaction() as s:
        s["planted"] = "by someone else"
        s["_user_id"] = "a token chosen by an attacker"
        s["lang"] = "en"
    sign_in(client, "caseworker")
    first = cookie_session(client)
    assert "planted" not in first
    assert first["lang"] == "en"  # the language choice survives
    assert first["_user_id"] != "a token chosen by an attacker"

    client.post("/auth/sign-out")
    sign_in(client, "caseworker")
    second = cookie_session(client)
    assert second["_user_id"] != first["_user_id"]


def test_no_remember_me_and_cookie_flags(client, world):
    page = client.get("/auth/sign-in").get_data(as_text=True)
    assert "remember" not in page.lower()
    response = sign_in(client, "caseworker")
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token") for c in cookies)
    session_cookie = next(c for c in cookies if c.startswith(COOKIE + "="))
    assert "HttpOnly" in session_cookie
    assert "SameSite=Lax" in session_cookie
    # A browser session cookie: no Expires, so closing the browser forgets it.
    assert "Expires=" not in session_cookie


def test_signed_in_user_visiting_sign_in_goes_home(client, world, login_as):
    login_as(world.users["volunteer"])
    response = client.get("/auth/sign-in")
    assert response.status_code == 302 and response.headers["Location"] == "/home"


def test_sign_out_ends_the_server_session(client, world, login_as):
    login_as(world.users["volunteer"])
    auth_session = current_auth_session(client)
    response = client.post("/auth/sign-out")
    assert response.status_code == 302
    db.session.refresh(auth_session)
    assert auth_session.ended_at is not None and auth_session.end_reason == "signed_out"
    assert "auth.sign_out" in audit_actions()
