"""Throttling of sign-in and second-factor attempts (Flask-Limiter).

Only failed attempts count: a view marks its failure with `mark_failed()` and the limits deduct
when that mark is set (`deduct_when`). Windows are fixed and expire by themselves, so nobody can
lock a user out for longer than a window. Limits come from the configuration; the storage is
`RATELIMIT_STORAGE_URI` (memory in development and tests, Redis in production).
"""

from __future__ import annotations

import hashlib

from flask import current_app, request
from flask_limiter.util import get_remote_address

from app.extensions import limiter

# Marks kept in the WSGI environ: they belong to this request only, whatever outlives it.
_FAILED = "caunoi.auth_attempt_failed"
_RECORDED = "caunoi.auth_throttle_recorded"


def mark_failed() -> None:
    """Count this request against the limits of its view."""
    request.environ[_FAILED] = True


def _failed(response) -> bool:
    return bool(request.environ.get(_FAILED))


def _digest(value: str) -> str:
    # Limiter keys may live in Redis: keep account names out of them.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def submitted_username() -> str:
    from app.auth.services import normalize_username

    return normalize_username(request.form.get("username", ""))[:64]


def account_key(username: str | None = None) -> str:
    name = submitted_username() if username is None else username
    return "acct:" + _digest(name)


def address_key(address: str | None = None) -> str:
    return "addr:" + (address or get_remote_address() or "unknown")


def account_address_key(username: str | None = None, address: str | None = None) -> str:
    name = submitted_username() if username is None else username
    return f"acct-addr:{_digest(name)}:{address or get_remote_address() or 'unknown'}"


def _mfa_user_key() -> str:
    from app.auth.sessions import pending_session

    pending = pending_session()
    return f"mfa:{pending.user_id}" if pending is not None else "mfa:none"


def _on_breach(request_limit) -> None:
    """Audit the refusal once per request; the 429 page comes from the error handler."""
    if request.environ.get(_RECORDED):
        return None
    request.environ[_RECORDED] = True
    from app.auth.services import record_throttled

    record_throttled(scope=request.endpoint or "", limit=str(request_limit.limit))
    return None


def _limit(config_name: str, key_func, scope: str | None = None):
    options = dict(key_func=key_func, methods=["POST"], deduct_when=_failed, on_breach=_on_breach)
    limit = lambda: current_app.config[config_name]  # noqa: E731
    if scope is not None:  # counted in another view's buckets
        return limiter.shared_limit(limit, scope=scope, **options)
    return limiter.limit(limit, **options)


def sign_in_limits(view):
    """Per (account, address), per account, per address; failed sign-ins only."""
    view = _limit("SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS", account_address_key)(view)
    view = _limit("SIGNIN_LIMIT_PER_ACCOUNT", account_key)(view)
    return _limit("SIGNIN_LIMIT_PER_ADDRESS", address_key)(view)


def resume_limits(view):
    """Signing in again on a page (auth.resume) counts in the sign-in page's own buckets."""
    view = _limit("SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS", account_address_key, "auth.sign_in")(view)
    view = _limit("SIGNIN_LIMIT_PER_ACCOUNT", account_key, "auth.sign_in")(view)
    return _limit("SIGNIN_LIMIT_PER_ADDRESS", address_key, "auth.sign_in")(view)


def mfa_limits(view):
    """Second-factor codes: per account (whoever holds the password) and per address."""
    view = _limit("MFA_LIMIT_PER_ACCOUNT", _mfa_user_key)(view)
    return _limit("SIGNIN_LIMIT_PER_ADDRESS", address_key)(view)


def enrolment_limits(view):
    """Codes typed while enrolling count like second-factor attempts."""
    return _limit("MFA_LIMIT_PER_ACCOUNT", _current_user_key)(view)


def password_change_limits(view):
    """Wrong current passwords on the change page count like failed sign-ins."""
    return _limit("SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS", _current_user_key)(view)


def _current_user_key() -> str:
    from flask_login import current_user

    user_id = current_user.id if current_user.is_authenticated else "none"
    return f"user:{request.endpoint}:{user_id}"
