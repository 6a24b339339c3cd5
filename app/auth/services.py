"""Sign-in and sign-out: the rules, and their audit events."""

from __future__ import annotations

import sqlalchemy as sa

from app.audit.services import record
from app.auth import passwords, sessions
from app.auth.models import AuthSession
from app.extensions import db
from app.orgs.models import User
from app.permissions import Actor


def normalize_username(username: str) -> str:
    return username.strip().casefold()


def find_user(username: str) -> User | None:
    return db.session.execute(
        sa.select(User).where(User.username == normalize_username(username))
    ).scalar_one_or_none()


def authenticate(username: str, password: str) -> User | None:
    """The user when the password is right and the account enabled; None otherwise.

    Unknown users cost one hash verification too, so timing does not tell them apart.
    """
    user = find_user(username)
    if user is None:
        passwords.burn_verification_time()
        record(
            Actor.anonymous(),
            "auth.sign_in_failed",
            outcome="denied",
            object_type="user",
            object_ref=None,
        )
        return None
    if not passwords.verify_password(user.password_hash, password) or not user.is_enabled:
        record(Actor.from_user(user), "auth.sign_in_failed", user, outcome="denied")
        return None
    if passwords.hasher().check_needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    return user


def sign_in(user: User, *, mfa_pending: bool = False) -> str:
    """Open a new server-side session (a new id every time: no fixation)."""
    token = sessions.start_session(user, mfa_pending=mfa_pending)
    if not mfa_pending:
        record(Actor.from_user(user), "auth.sign_in", user)
    return token


def sign_out(user: User, auth_session: AuthSession) -> None:
    sessions.end_session(auth_session, "signed_out")
    record(Actor.from_user(user), "auth.sign_out", user)
