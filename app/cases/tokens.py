"""Personal API tokens: shown once, stored as SHA-256, revocable, audited."""

from __future__ import annotations

import hashlib
import secrets

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.auth.models import ApiToken
from app.cases.services import CaseError
from app.db import utcnow
from app.extensions import db
from app.orgs.models import User
from app.permissions import Actor, PermissionDenied

TOKEN_PREFIX = "cn_"  # noqa: S105 (a public marker, not a secret)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(actor: Actor, name: str) -> tuple[ApiToken, str]:
    """A new token for the actor; the plain token is returned once and never stored."""
    if actor.user_id is None:
        raise PermissionDenied
    name = " ".join((name or "").split())[:80]
    if not name:
        raise CaseError(_l("Hãy đặt tên cho mã truy cập."), "name")
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.user_id,
        name=name,
        token_hash=hash_token(plain),
        prefix=plain[:10],
        created_at=utcnow(),
    )
    db.session.add(token)
    db.session.flush()
    audit.record(actor, "api_token.created", token)
    return token, plain


def revoke_api_token(actor: Actor, token: ApiToken) -> ApiToken:
    if token.user_id != actor.user_id:
        raise PermissionDenied
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
        audit.record(actor, "api_token.revoked", token)
    return token


def tokens_of(actor: Actor) -> list[ApiToken]:
    return list(
        db.session.execute(
            sa.select(ApiToken)
            .where(ApiToken.user_id == actor.user_id)
            .order_by(ApiToken.id.desc())
        ).scalars()
    )


def user_for_token(plain: str) -> User | None:
    """The enabled user owning a live token, or None."""
    if not plain or not plain.startswith(TOKEN_PREFIX):
        return None
    token = db.session.execute(
        sa.select(ApiToken).where(ApiToken.token_hash == hash_token(plain))
    ).scalar_one_or_none()
    if token is None or token.revoked_at is not None or not token.user.is_enabled:
        return None
    return token.user
