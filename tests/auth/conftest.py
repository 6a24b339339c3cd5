"""Fixtures and helpers for the sign-in tests."""

from __future__ import annotations

from datetime import datetime

import pyotp
import pytest
import sqlalchemy as sa

from app.auth import mfa
from app.auth.models import AuthSession
from app.auth.sessions import find_session
from app.db import utcnow
from app.extensions import db

COOKIE = "caunoi_session"


def cookie_session(client) -> dict:
    with client.session_transaction() as s:
        return dict(s)


def current_auth_session(client) -> AuthSession | None:
    token = cookie_session(client).get("_user_id")
    return find_session(token)


def live_sessions(user) -> list[AuthSession]:
    return list(
        db.session.execute(
            sa.select(AuthSession).where(
                AuthSession.user_id == user.id, AuthSession.ended_at.is_(None)
            )
        ).scalars()
    )


def enrol(user) -> list[str]:
    """Turn two-factor on for `user` directly; returns the recovery codes."""
    user.mfa_secret = pyotp.random_base32()
    user.mfa_enrolled_at = utcnow()
    codes = mfa.new_recovery_codes(user)
    db.session.commit()
    return codes


def totp_code(user, at: datetime | None = None, offset: int = 0) -> str:
    totp = pyotp.TOTP(user.mfa_secret)
    return totp.generate_otp(totp.timecode(at or utcnow()) + offset)


@pytest.fixture(autouse=True)
def _fresh_g(fresh_g_per_request):
    """Every sign-in test request gets an empty `g` (tests/conftest.py says why)."""


@pytest.fixture
def mfa_required_for(app):
    """mfa_required_for("caseworker") sets MFA_REQUIRED_ROLES for one test, then restores it."""
    saved = app.config["MFA_REQUIRED_ROLES"]

    def _set(*roles: str) -> None:
        app.config["MFA_REQUIRED_ROLES"] = frozenset(roles)

    yield _set
    app.config["MFA_REQUIRED_ROLES"] = saved


@pytest.fixture
def config_override(app):
    """config_override(KEY=value) for one test; every key is restored afterwards."""
    saved: dict = {}

    def _set(**values) -> None:
        for key, value in values.items():
            saved.setdefault(key, app.config.get(key))
            app.config[key] = value

    yield _set
    app.config.update(saved)
