"""Sign-in, second factor, sign-out and password change: the rules, and their audit events."""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app

from app.audit.services import record
from app.auth import mfa, passwords, sessions
from app.auth.models import AuthSession, RecoveryCode
from app.db import begin_writing, utcnow
from app.extensions import db
from app.orgs.models import User
from app.permissions import Actor


class PasswordRefused(Exception):
    """The new password breaks the policy; `problems` are the reasons, in the user's language."""

    def __init__(self, problems: list[str]):
        super().__init__("password refused")
        self.problems = problems


class WrongPassword(Exception):
    """The current password given to confirm a change is not the user's."""


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


def record_resume_refused(user: User, owner: AuthSession) -> None:
    """Someone else's right password on a page whose session was another user's: refused."""
    record(
        Actor.from_user(user),
        "auth.sign_in_failed",
        user,
        outcome="denied",
        reason="not the user whose session the page belonged to",
    )


def sign_out(user: User, auth_session: AuthSession) -> None:
    sessions.end_session(auth_session, "signed_out")
    record(Actor.from_user(user), "auth.sign_out", user)


def has_mfa(user: User) -> bool:
    return user.mfa_enrolled_at is not None and user.mfa_secret_enc is not None


def must_enrol(user: User) -> bool:
    """True when the user's role requires two-factor and the user has not enrolled yet."""
    required = current_app.config.get("MFA_REQUIRED_ROLES") or ()
    return user.role in required and not has_mfa(user)


def pending_enrolment_secret(user: User) -> str:
    """The secret shown while enrolling: kept until confirmed, so a reload shows the same QR."""
    if has_mfa(user):
        raise ValueError("already enrolled")
    if user.mfa_secret_enc is None:
        begin_writing(db.session)  # the page began as a read snapshot (app/web/transactions.py)
        user.mfa_secret = mfa.new_secret()
        db.session.flush()
    return user.mfa_secret


def enrol_mfa(user: User, code: str) -> list[str] | None:
    """Turn two-factor on when `code` proves the app holds the secret; returns recovery codes."""
    if has_mfa(user) or user.mfa_secret_enc is None:
        return None
    if not mfa.use_totp(user, user.mfa_secret, code):
        record(
            Actor.from_user(user),
            "auth.mfa_failed",
            user,
            outcome="denied",
            details={"via": "enrolment"},
        )
        return None
    user.mfa_enrolled_at = utcnow()
    codes = mfa.new_recovery_codes(user)
    db.session.flush()
    record(Actor.from_user(user), "auth.mfa_enrolled", user, details={"count": len(codes)})
    return codes


def reset_mfa(actor: Actor, user: User) -> None:
    """An administrator turns a user's two-factor off (lost phone); the user enrols again."""
    from app.permissions import PermissionDenied, Role

    if not (actor.is_system or actor.has_role(Role.ADMIN)):
        raise PermissionDenied
    user.mfa_secret = None
    user.mfa_enrolled_at = None
    user.mfa_last_step = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    db.session.flush()
    record(actor, "auth.mfa_reset", user)


def complete_second_factor(auth_session: AuthSession, code: str) -> str | None:
    """Finish a pending sign-in with a TOTP or recovery code; returns how ("totp"/"recovery_code").

    On success the session stops being pending and the sign-in is recorded; on failure the
    attempt is recorded and None returned.
    """
    user = auth_session.user
    actor = Actor.from_user(user)
    via = None
    if has_mfa(user) and user.is_enabled:
        if mfa.use_totp(user, user.mfa_secret, code):
            via = "totp"
        elif mfa.use_recovery_code(user, code):
            via = "recovery_code"
            record(
                actor,
                "auth.recovery_code_used",
                user,
                details={"count": mfa.unused_recovery_codes(user)},
            )
    if via is None:
        record(actor, "auth.mfa_failed", user, outcome="denied", details={"via": "sign_in"})
        return None
    auth_session.is_mfa_pending = False
    auth_session.last_seen_at = utcnow()
    db.session.flush()
    record(actor, "auth.sign_in", user, details={"via": via})
    return via


def change_password(
    user: User, auth_session: AuthSession, current_password: str, new_password: str
) -> int:
    """Users change their own password: the current one is proved, the policy holds, and every
    other session of the user ends. Returns how many sessions were ended."""
    if not passwords.verify_password(user.password_hash, current_password):
        record(
            Actor.from_user(user),
            "auth.password_changed",
            user,
            outcome="denied",
            reason="wrong current password",
        )
        raise WrongPassword
    problems = passwords.password_problems(new_password, user.username, user.display_name)
    if not problems and passwords.verify_password(user.password_hash, new_password):
        problems = [_same_password_message()]
    if problems:
        raise PasswordRefused(problems)
    user.password_hash = passwords.hash_password(new_password)
    user.password_changed_at = utcnow()
    ended = sessions.end_all_sessions(user, "password_changed", keep=auth_session)
    db.session.flush()
    record(Actor.from_user(user), "auth.password_changed", user, details={"count": ended})
    return ended


def _same_password_message() -> str:
    from flask_babel import gettext as _

    return _("Mật khẩu mới phải khác mật khẩu hiện tại.")


def record_throttled(scope: str, limit: str) -> None:
    """Audit a throttled attempt, in its own transaction (the request goes no further)."""
    from flask import request

    from app.auth.sessions import pending_session

    user = None
    if scope == "auth.sign_in":
        user = find_user(request.form.get("username", ""))
    elif scope == "auth.mfa":
        pending = pending_session()
        user = pending.user if pending is not None else None
    elif scope in ("auth.change_password", "auth.mfa_enrol"):
        from flask_login import current_user

        user = current_user if current_user.is_authenticated else None
    actor = Actor.from_user(user) if user is not None else Actor.anonymous()
    ref = user.username if user is not None else None
    # Its own transaction, like every refusal: the request stops here.
    db.session.rollback()
    record(
        actor,
        "auth.throttled",
        object_type="user",
        object_ref=ref,
        outcome="denied",
        details={"via": scope, "limit": limit},
    )
    db.session.commit()
