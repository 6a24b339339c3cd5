"""TOTP two-factor: required roles, enrolment, the second sign-in step, replay, recovery codes."""

from __future__ import annotations

import re

import pyotp
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth import mfa
from app.auth.models import AuthSession, RecoveryCode
from app.auth.sessions import PENDING_KEY, find_session
from app.db import utcnow
from app.extensions import db
from tests.auth.conftest import cookie_session, enrol, totp_code
from tests.conftest import audit_actions, sign_in


def _sign_in_with_code(client, username: str, code: str):
    assert sign_in(client, username).headers["Location"] == "/auth/mfa"
    return client.post("/auth/mfa", data={"code": code})


def _enrol_through_the_page(client, user) -> list[str]:
    page = client.get("/auth/mfa/enrol")
    assert page.status_code == 200
    db.session.refresh(user)
    response = client.post("/auth/mfa/enrol", data={"code": totp_code(user)})
    assert response.status_code == 200
    return re.findall(r"<code>([0-9a-z-]{29})</code>", response.get_data(as_text=True))


# Roles that must use two-factor.


def test_required_role_is_sent_to_enrolment_and_nowhere_else(client, world, mfa_required_for):
    mfa_required_for("caseworker")
    response = sign_in(client, "caseworker")
    assert response.headers["Location"] == "/auth/mfa/enrol"
    for url in ("/home", "/auth/password", "/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.headers["Location"] == "/auth/mfa/enrol", url
    assert client.post("/auth/password", data={}).headers["Location"] == "/auth/mfa/enrol"
    page = client.get("/auth/mfa/enrol")
    assert page.status_code == 200
    assert "bắt buộc dùng xác thực hai bước" in page.get_data(as_text=True)
    # Signing out and the static files stay reachable.
    assert client.get("/static/css/app.css").status_code == 200
    assert client.post("/auth/sign-out").headers["Location"] == "/auth/sign-in"


def test_roles_not_required_are_left_alone(client, world, mfa_required_for, login_as):
    mfa_required_for("caseworker")
    login_as(world.users["volunteer"])
    assert client.get("/home").status_code == 200


def test_required_role_reaches_pages_after_enrolling(client, world, mfa_required_for):
    mfa_required_for("caseworker")
    user = world.users["caseworker"]
    sign_in(client, "caseworker")
    codes = _enrol_through_the_page(client, user)
    assert len(codes) == 10
    assert client.get("/home").status_code == 200


def test_production_requires_two_factor_of_admins_supervisors_caseworkers():
    from config import DevelopmentConfig, ProductionConfig, TestingConfig

    assert {"admin", "supervisor", "caseworker"} <= set(ProductionConfig.MFA_REQUIRED_ROLES)
    assert not DevelopmentConfig.MFA_REQUIRED_ROLES and not TestingConfig.MFA_REQUIRED_ROLES


# Enrolment.


def test_enrolment_shows_a_qr_drawn_by_the_app_and_the_secret(client, world, login_as):
    user = world.users["volunteer"]
    login_as(user)
    body = client.get("/auth/mfa/enrol").get_data(as_text=True)
    db.session.refresh(user)
    assert user.mfa_secret and user.mfa_enrolled_at is None
    assert "<svg" in body and 'class="qr"' in body
    assert "data:" not in body and "http" not in body.split("<svg", 1)[1].split("</svg>")[0]
    assert mfa.grouped(user.mfa_secret) in body
    # Reloading shows the same secret: a phone that scanned it keeps working.
    client.get("/auth/mfa/enrol")
    secret = user.mfa_secret
    db.session.refresh(user)
    assert user.mfa_secret == secret


def test_enrolment_confirms_with_a_code_and_shows_ten_codes_once(client, world, login_as):
    user = world.users["volunteer"]
    login_as(user)
    client.get("/auth/mfa/enrol")
    db.session.refresh(user)

    wrong = client.post(
        "/auth/mfa/enrol", data={"code": "000000" if totp_code(user) != "000000" else "111111"}
    )
    assert wrong.status_code == 400
    assert "Mã không đúng" in wrong.get_data(as_text=True)
    assert "auth.mfa_failed" in audit_actions()
    db.session.refresh(user)
    assert user.mfa_enrolled_at is None

    codes = _enrol_through_the_page(client, user)
    assert len(codes) == len(set(codes)) == 10
    db.session.refresh(user)
    assert user.mfa_enrolled_at is not None
    assert "auth.mfa_enrolled" in audit_actions()
    stored = (
        db.session.execute(sa.select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
        .scalars()
        .all()
    )
    assert len(stored) == 10
    assert not {c.replace("-", "") for c in codes} & set(stored)  # only hashes are stored

    # Shown once: the page now tells the status, not the codes.
    again = client.get("/auth/mfa/enrol").get_data(as_text=True)
    assert "đang bật" in again and codes[0] not in again


def test_home_offers_voluntary_enrolment(client, world, login_as):
    login_as(world.users["volunteer"])
    assert "/auth/mfa/enrol" in client.get("/home").get_data(as_text=True)


# Signing in with the second factor.


def test_password_alone_does_not_sign_in_an_enrolled_user(client, world):
    user = world.users["caseworker"]
    enrol(user)
    response = sign_in(client, "caseworker")
    assert response.headers["Location"] == "/auth/mfa"
    stored = cookie_session(client)
    assert "_user_id" not in stored and PENDING_KEY in stored
    pending = find_session(stored[PENDING_KEY])
    assert pending.is_mfa_pending
    assert "auth.sign_in" not in audit_actions()
    assert "/auth/sign-in" in client.get("/home").headers["Location"]
    # The pending token is no sign-in either when put where Flask-Login looks.
    with client.session_transaction() as s:
        s["_user_id"] = stored[PENDING_KEY]
    assert "/auth/sign-in" in client.get("/home").headers["Location"]


def test_totp_code_completes_the_sign_in(client, world):
    user = world.users["caseworker"]
    enrol(user)
    response = sign_in(client, "caseworker", query_string={"next": "/auth/password"})
    assert client.get("/auth/mfa").status_code == 200
    response = client.post("/auth/mfa", data={"code": totp_code(user)})
    assert response.status_code == 302 and response.headers["Location"] == "/auth/password"
    stored = cookie_session(client)
    assert PENDING_KEY not in stored
    auth_session = find_session(stored["_user_id"])
    assert not auth_session.is_mfa_pending
    assert audit_actions().count("auth.sign_in") == 1
    assert client.get("/home").status_code == 200


def test_wrong_code_is_refused_and_audited(client, world):
    user = world.users["caseworker"]
    enrol(user)
    good = totp_code(user)
    response = _sign_in_with_code(client, "caseworker", "123456" if good != "123456" else "654321")
    assert response.status_code == 401
    assert "Mã không đúng hoặc đã được dùng" in response.get_data(as_text=True)
    assert "auth.mfa_failed" in audit_actions() and "auth.sign_in" not in audit_actions()
    assert "/auth/sign-in" in client.get("/home").headers["Location"]


def test_a_code_cannot_be_replayed(client, world, app):
    user = world.users["caseworker"]
    enrol(user)
    code = totp_code(user)
    assert _sign_in_with_code(client, "caseworker", code).status_code == 302
    client.post("/auth/sign-out")

    other = app.test_client()
    replay = _sign_in_with_code(other, "caseworker", code)
    assert replay.status_code == 401
    # An older code of the window is refused too once a later one was used.
    older = _sign_in_with_code(app.test_client(), "caseworker", totp_code(user, offset=-1))
    assert older.status_code == 401


def test_replay_is_refused_at_the_service_level(world):
    user = world.users["caseworker"]
    enrol(user)
    at = utcnow()
    code = totp_code(user, at)
    assert mfa.use_totp(user, user.mfa_secret, code, at)
    assert not mfa.use_totp(user, user.mfa_secret, code, at)
    assert mfa.use_totp(user, user.mfa_secret, totp_code(user, at, offset=1), at)


def test_clock_drift_of_one_step_is_accepted(world):
    user = world.users["caseworker"]
    enrol(user)
    assert mfa.use_totp(user, user.mfa_secret, totp_code(user, offset=-1))
    db.session.rollback()
    user2 = world.users["supervisor"]
    enrol(user2)
    assert not mfa.use_totp(user2, user2.mfa_secret, totp_code(user2, offset=-3))


def test_recovery_codes_work_once(client, world, app):
    user = world.users["caseworker"]
    codes = enrol(user)
    response = _sign_in_with_code(client, "caseworker", codes[3].upper())
    assert response.status_code == 302
    assert "auth.recovery_code_used" in audit_actions()
    assert "Còn lại 9 mã" in client.get("/home").get_data(as_text=True)
    client.post("/auth/sign-out")

    again = _sign_in_with_code(app.test_client(), "caseworker", codes[3])
    assert again.status_code == 401
    other = _sign_in_with_code(app.test_client(), "caseworker", codes[4].replace("-", " "))
    assert other.status_code == 302


def test_recovery_codes_are_per_user(client, world):
    codes = enrol(world.users["caseworker"])
    enrol(world.users["supervisor"])
    assert _sign_in_with_code(client, "supervisor", codes[0]).status_code == 401


def test_second_factor_attempts_are_throttled(client, world):
    user = world.users["caseworker"]
    enrol(user)
    sign_in(client, "caseworker")
    wrong = "123456" if totp_code(user) != "123456" else "654321"
    for _ in range(5):
        assert client.post("/auth/mfa", data={"code": wrong}).status_code == 401
    response = client.post("/auth/mfa", data={"code": totp_code(user)})
    assert response.status_code == 429
    assert "auth.throttled" in audit_actions()
    # Signing in again with the password does not buy new tries: the count is per account.
    sign_in(client, "caseworker")
    assert client.post("/auth/mfa", data={"code": totp_code(user)}).status_code == 429


def test_pending_session_expires(client, world, app):
    user = world.users["caseworker"]
    enrol(user)
    sign_in(client, "caseworker")
    pending = find_session(cookie_session(client)[PENDING_KEY])
    pending.last_seen_at = (
        utcnow() - app.config["SESSION_IDLE_TIMEOUT"] - app.config["SESSION_IDLE_TIMEOUT"]
    )
    db.session.commit()
    response = client.post("/auth/mfa", data={"code": totp_code(user)})
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_mfa_page_without_a_pending_sign_in_goes_to_sign_in(client, world):
    response = client.get("/auth/mfa")
    assert response.status_code == 302 and "/auth/sign-in" in response.headers["Location"]


def test_signing_in_again_ends_the_previous_pending_session(client, world):
    enrol(world.users["caseworker"])
    sign_in(client, "caseworker")
    first = find_session(cookie_session(client)[PENDING_KEY])
    sign_in(client, "caseworker")
    db.session.refresh(first)
    assert first.ended_at is not None
    live = db.session.execute(
        sa.select(sa.func.count()).select_from(AuthSession).where(AuthSession.ended_at.is_(None))
    ).scalar_one()
    assert live == 1


def test_secret_is_a_strong_base32_key():
    secret = mfa.new_secret()
    assert len(secret) >= 32
    assert pyotp.TOTP(secret).now().isdigit()


def test_admin_can_reset_a_lost_second_factor(client, world):
    from app.auth import services
    from app.permissions import Actor, PermissionDenied

    user = world.users["caseworker"]
    enrol(user)
    with pytest.raises(PermissionDenied):
        services.reset_mfa(Actor.from_user(world.users["supervisor"]), user)
    services.reset_mfa(Actor.from_user(world.users["admin"]), user)
    db.session.commit()
    assert user.mfa_secret is None and user.mfa_enrolled_at is None
    assert mfa.unused_recovery_codes(user) == 0
    assert "auth.mfa_reset" in audit_actions()
    assert sign_in(client, "caseworker").headers["Location"] == "/home"


def test_enrolment_codes_are_throttled(client, world, login_as):
    user = world.users["volunteer"]
    login_as(user)
    client.get("/auth/mfa/enrol")
    db.session.refresh(user)
    wrong = "123456" if totp_code(user) != "123456" else "654321"
    for _ in range(5):
        assert client.post("/auth/mfa/enrol", data={"code": wrong}).status_code == 400
    assert client.post("/auth/mfa/enrol", data={"code": totp_code(user)}).status_code == 429
    throttled = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.throttled")
    ).scalar_one()
    assert throttled.object_ref == "volunteer"
