"""Server-side, revocable sessions behind Flask-Login.

The signed Flask cookie holds only an opaque token (through `User.get_id`); the row in
`auth_sessions` decides whether it is still good: idle and absolute limits, sign-out, and
disabling a user all end it on the server, so a replayed cookie is refused.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app, session
from sqlalchemy.orm import joinedload

from app.auth.models import ApiToken, AuthSession
from app.db import begin_writing, utcnow
from app.extensions import db
from app.orgs.models import User

# Writing last_seen_at on every request would serialize reads on SQLite for nothing.
TOUCH_INTERVAL = timedelta(seconds=30)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(user: User, *, mfa_pending: bool = False) -> str:
    """Create the server-side session; the caller puts the returned token in a fresh cookie."""
    token = secrets.token_urlsafe(32)
    auth_session = AuthSession(token_hash=_hash(token), user_id=user.id, is_mfa_pending=mfa_pending)
    db.session.add(auth_session)
    db.session.flush()
    attach(user, token, auth_session)  # so the signing-in request itself sees them too
    return token


def attach(user: User, token: str, auth_session: AuthSession) -> None:
    """What the session loader sets on the user: `get_id` returns the token."""
    user.session_token = token
    user.auth_session = auth_session


# What other modules read on every signed-in page, carried by the session's own statement as
# scalar subqueries over the user's id (the bell's unread count): one round trip fewer a page,
# 0.2 ms of PostgreSQL's 3 ms floor. Registered at import, before the first request.
_SESSION_READS: dict[str, Callable[[sa.ColumnElement], sa.ScalarSelect]] = {}


def read_with_session(name: str, subquery: Callable[[sa.ColumnElement], sa.ScalarSelect]) -> None:
    """Have `subquery(user_id column)` read with every session lookup, as `session_read(name)`."""
    if _session_by_token_hash.cache_info().currsize:
        raise RuntimeError(f"{name}: register session reads before the first request")
    _SESSION_READS[name] = subquery


def session_read(user: User, name: str):
    """What `name` read with this request's session lookup, or None when it was not read (the
    request that signs in, an API token): the caller then reads it itself."""
    auth_session = getattr(user, "auth_session", None)
    return getattr(auth_session, "reads", {}).get(name)


@functools.cache
def _session_by_token_hash() -> sa.Select:
    # Built once (every request runs it; building it cost more than running it). The user and
    # their unit (the actor's scope) come in the same query: every request needs them.
    reads = [build(AuthSession.user_id).label(name) for name, build in _SESSION_READS.items()]
    return (
        sa.select(AuthSession, *reads)
        .where(AuthSession.token_hash == sa.bindparam("token_hash"))
        .options(joinedload(AuthSession.user).joinedload(User.org_unit))
    )


def find_session(token: str | None) -> AuthSession | None:
    if not token:
        return None
    statement = _session_by_token_hash()
    row = db.session.execute(statement, {"token_hash": _hash(token)}).one_or_none()
    if row is None:
        return None
    auth_session = row[0]
    # Not a column: what this request read with it (`session_read`).
    auth_session.reads = dict(zip(_SESSION_READS, row[1:], strict=True))
    return auth_session


def expiry_reason(auth_session: AuthSession) -> str | None:
    """Why this session may no longer be used, or None while it is good."""
    if auth_session.ended_at is not None:
        return auth_session.end_reason or "ended"
    now = utcnow()
    cfg = current_app.config
    if now - auth_session.created_at > cfg["SESSION_ABSOLUTE_TIMEOUT"]:
        return "absolute"
    if now - auth_session.last_seen_at > idle_limit(auth_session):
        return "idle"
    if not auth_session.user.is_enabled:
        return "disabled"
    return None


def idle_limit(auth_session: AuthSession) -> timedelta:
    """How long this session may stay idle: longer while she is on an intake or a note."""
    cfg = current_app.config
    if auth_session.is_on_long_form:
        return max(cfg["SESSION_FORM_IDLE_TIMEOUT"], cfg["SESSION_IDLE_TIMEOUT"])
    return cfg["SESSION_IDLE_TIMEOUT"]


def seconds_left(auth_session: AuthSession) -> dict[str, int]:
    """Seconds until the idle and the absolute limits (what the page's timer counts down)."""
    now = utcnow()
    cfg = current_app.config
    idle = auth_session.last_seen_at + idle_limit(auth_session) - now
    absolute = auth_session.created_at + cfg["SESSION_ABSOLUTE_TIMEOUT"] - now
    return {
        "idle": max(0, int(idle.total_seconds())),
        "absolute": max(0, int(absolute.total_seconds())),
    }


def set_long_form(auth_session: AuthSession, on: bool) -> None:
    """Record whether her current page is an intake or a note (see `idle_limit`)."""
    if auth_session.is_on_long_form != on:
        begin_writing(db.session)
        auth_session.is_on_long_form = on


def end_session(auth_session: AuthSession, reason: str) -> None:
    if auth_session.ended_at is None:
        begin_writing(db.session)
        auth_session.ended_at = utcnow()
        auth_session.end_reason = reason


def end_all_sessions(user: User, reason: str, *, keep: AuthSession | None = None) -> int:
    """End every live session of `user` (disabling, password reset), except `keep` if given."""
    stmt = sa.update(AuthSession).where(
        AuthSession.user_id == user.id, AuthSession.ended_at.is_(None)
    )
    if keep is not None:
        stmt = stmt.where(AuthSession.id != keep.id)
    result = db.session.execute(stmt.values(ended_at=utcnow(), end_reason=reason))
    return result.rowcount or 0


def revoke_all_api_tokens(user: User) -> int:
    """Revoke every live API token of `user` for good (disabling).

    Checking `is_enabled` at use is not enough: re-enabling the account would bring every
    old token back to life. A revoked token stays revoked; she makes new ones if she needs them.
    """
    result = db.session.execute(
        sa.update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount or 0


def touch(auth_session: AuthSession, *, force: bool = False) -> None:
    now = utcnow()
    if force or now - auth_session.last_seen_at >= TOUCH_INTERVAL:
        begin_writing(db.session)  # the page may have begun as a read snapshot (app/db.py)
        auth_session.last_seen_at = now


# The token of a session still owing its second factor lives under its own key, so that
# Flask-Login (which reads "_user_id") never treats it as signed in.
PENDING_KEY = "mfa_pending"


def pending_session() -> AuthSession | None:
    """The live, second-factor-pending session of this browser, if any."""
    auth_session = find_session(session.get(PENDING_KEY))
    if auth_session is None or not auth_session.is_mfa_pending:
        return None
    if expiry_reason(auth_session) is not None:
        return None
    return auth_session


def end_expired_sessions(keep_days: int = 30) -> tuple[int, int]:
    """Scheduled: end sessions past their idle or absolute limit (the cookie would be refused
    anyway; ending them keeps "active sessions" true), and forget ended ones after `keep_days`
    (sign-ins and sign-outs stay in the audit trail). Returns (ended, deleted)."""
    now = utcnow()
    cfg = current_app.config
    live = AuthSession.ended_at.is_(None)
    ended = 0
    for reason, condition in (
        ("absolute", AuthSession.created_at < now - cfg["SESSION_ABSOLUTE_TIMEOUT"]),
        ("idle", AuthSession.last_seen_at < now - cfg["SESSION_IDLE_TIMEOUT"]),
    ):
        stmt = sa.update(AuthSession).where(live, condition)
        ended += db.session.execute(stmt.values(ended_at=now, end_reason=reason)).rowcount or 0
    old = AuthSession.ended_at < now - timedelta(days=keep_days)
    deleted = db.session.execute(sa.delete(AuthSession).where(old)).rowcount or 0
    return ended, deleted
