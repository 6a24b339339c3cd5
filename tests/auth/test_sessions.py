"""Server-side sessions: idle and absolute limits, sign-out, disabling, no replay."""

from __future__ import annotations

from datetime import timedelta

from app.auth.sessions import end_all_sessions
from app.db import utcnow
from app.extensions import db
from tests.auth.conftest import COOKIE, current_auth_session, live_sessions
from tests.conftest import audit_actions, sign_in


def _is_sent_to_sign_in(response) -> bool:
    return response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_idle_session_expires(client, world, login_as, app):
    login_as(world.users["caseworker"])
    auth_session = current_auth_session(client)
    idle = app.config["SESSION_IDLE_TIMEOUT"]
    auth_session.last_seen_at = utcnow() - idle + timedelta(minutes=1)
    db.session.commit()
    assert client.get("/home").status_code == 200  # still within the idle limit

    auth_session.last_seen_at = utcnow() - idle - timedelta(seconds=1)
    db.session.commit()
    assert _is_sent_to_sign_in(client.get("/home"))
    db.session.refresh(auth_session)
    assert auth_session.end_reason == "idle"
    assert "auth.session_expired" in audit_actions()


def test_activity_keeps_the_session_alive(client, world, login_as, app):
    login_as(world.users["caseworker"])
    auth_session = current_auth_session(client)
    before = utcnow() - app.config["SESSION_IDLE_TIMEOUT"] + timedelta(minutes=2)
    auth_session.last_seen_at = before
    db.session.commit()
    assert client.get("/home").status_code == 200
    db.session.refresh(auth_session)
    assert auth_session.last_seen_at > before


def test_absolute_limit_ends_even_an_active_session(client, world, login_as, app):
    login_as(world.users["caseworker"])
    auth_session = current_auth_session(client)
    auth_session.created_at = (
        utcnow() - app.config["SESSION_ABSOLUTE_TIMEOUT"] - timedelta(minutes=1)
    )
    auth_session.last_seen_at = utcnow()
    db.session.commit()
    assert _is_sent_to_sign_in(client.get("/home"))
    db.session.refresh(auth_session)
    assert auth_session.end_reason == "absolute"


def test_default_limits_are_15_minutes_and_12_hours(app):
    assert app.config["SESSION_IDLE_TIMEOUT"] == timedelta(minutes=15)
    assert app.config["SESSION_ABSOLUTE_TIMEOUT"] == timedelta(hours=12)


def test_replaying_the_cookie_after_sign_out_is_refused(client, world, login_as):
    login_as(world.users["caseworker"])
    old_cookie = client.get_cookie(COOKIE).value
    assert client.get("/home").status_code == 200
    client.post("/auth/sign-out")
    assert _is_sent_to_sign_in(client.get("/home"))

    client.set_cookie(COOKIE, old_cookie)
    assert _is_sent_to_sign_in(client.get("/home"))
    # ...from another browser too.
    other = client.application.test_client()
    other.set_cookie(COOKIE, old_cookie)
    assert _is_sent_to_sign_in(other.get("/home"))


def test_disabled_users_live_session_is_refused_at_the_next_request(client, world, login_as):
    user = world.users["caseworker"]
    login_as(user)
    other = client.application.test_client()
    sign_in(other, "caseworker")
    assert client.get("/home").status_code == 200
    assert len(live_sessions(user)) == 2

    user.is_enabled = False
    assert end_all_sessions(user, "disabled") == 2
    db.session.commit()
    assert _is_sent_to_sign_in(client.get("/home"))
    assert _is_sent_to_sign_in(other.get("/home"))
    assert live_sessions(user) == []


def test_disabling_alone_refuses_the_session(client, world, login_as):
    user = world.users["volunteer"]
    login_as(user)
    user.is_enabled = False
    db.session.commit()
    assert _is_sent_to_sign_in(client.get("/home"))
    assert current_auth_session(client).end_reason == "disabled"


def test_end_all_sessions_can_keep_one(client, world, login_as):
    user = world.users["volunteer"]
    login_as(user)
    kept = current_auth_session(client)
    other = client.application.test_client()
    sign_in(other, "volunteer")
    assert end_all_sessions(user, "password_changed", keep=kept) == 1
    db.session.commit()
    assert client.get("/home").status_code == 200
    assert _is_sent_to_sign_in(other.get("/home"))


def test_only_a_token_hash_is_stored(client, world, login_as):
    login_as(world.users["volunteer"])
    with client.session_transaction() as s:
        token = s["_user_id"]
    auth_session = current_auth_session(client)
    assert token not in auth_session.token_hash and len(auth_session.token_hash) == 64


def test_the_page_after_sign_out_forgets_the_offline_outreach_form(client, world, login_as):
    script = "/static/js/signed-out.js"
    assert script not in client.get("/auth/sign-in").get_data(as_text=True)
    login_as(world.users["volunteer"])
    client.post("/auth/sign-out")
    assert script in client.get("/auth/sign-in").get_data(as_text=True)
    assert script not in client.get("/auth/sign-in").get_data(as_text=True)  # once only
