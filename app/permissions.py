"""Authorization core shared by every module: who is acting, and deny-by-default helpers.

Every view is wrapped by `roles_required` (or marked `public`); the route-walk test fails on any
view that is neither. Object-level checks live in each module's `queries.py` (scoped lookups that
answer 404) and `permissions.py` (pure predicates).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from flask import abort, g
from flask_login import current_user

from app.extensions import login_manager

if TYPE_CHECKING:
    from app.orgs.models import User


class Role(StrEnum):
    VOLUNTEER = "volunteer"
    CASEWORKER = "caseworker"
    PARTNER = "partner"
    SUPERVISOR = "supervisor"
    # Answers "who saw which cases": case-level audit of its subtree, never case contents.
    AUDITOR = "auditor"
    ADMIN = "admin"


ALL_ROLES = frozenset(Role)

# Machine interfaces: bearer tokens only, JSON answers, never a redirect to the sign-in page.
API_PREFIXES = ("/api/", "/fhir/")


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIXES)


class PermissionDenied(Exception):
    """Raised by services when the actor may not perform the action."""


class NotFound(Exception):
    """Raised by scoped lookups outside the actor's scope; routes answer 404."""


@dataclass(frozen=True)
class Actor:
    """Who performs an action: passed explicitly to every service (never read from the request)."""

    user_id: int | None
    username: str
    role: Role | None
    org_unit_id: int | None
    org_path: str | None
    partner_organization_id: uuid.UUID | None = None

    @classmethod
    def from_user(cls, user: User) -> Actor:
        return cls(
            user_id=user.id,
            username=user.username,
            role=Role(user.role),
            org_unit_id=user.org_unit_id,
            org_path=user.org_unit.path if user.org_unit else None,
            partner_organization_id=getattr(user, "partner_organization_id", None),
        )

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        """The actor for scheduled jobs and command-line maintenance."""
        return cls(user_id=None, username=name, role=None, org_unit_id=None, org_path=None)

    @classmethod
    def anonymous(cls) -> Actor:
        return cls(user_id=None, username="", role=None, org_unit_id=None, org_path=None)

    @property
    def is_system(self) -> bool:
        return self.user_id is None and self.role is None and bool(self.username)

    def has_role(self, *roles: Role) -> bool:
        return self.role is not None and self.role in roles

    def covers_path(self, org_path: str | None) -> bool:
        """True when `org_path` is the actor's org unit or below it."""
        return bool(self.org_path and org_path and org_path.startswith(self.org_path))


def current_actor() -> Actor:
    """The signed-in user as an Actor (anonymous when nobody is signed in)."""
    actor = g.get("actor")
    if actor is not None:
        return actor
    if current_user and current_user.is_authenticated:
        actor = Actor.from_user(current_user)
    else:
        actor = Actor.anonymous()
    g.actor = actor
    return actor


def roles_required(*roles: Role):
    """Require a signed-in user with one of `roles`; anything else is refused and audited."""
    allowed = frozenset(roles)
    if not allowed:
        raise ValueError("roles_required needs at least one role")

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                # Flask-Login's handler, which app.auth.guards sets (sign-in page, or 401 JSON).
                return login_manager.unauthorized()
            actor = current_actor()
            if actor.role not in allowed:
                deny(actor, "role")
            return view(*args, **kwargs)

        wrapped.permission_roles = allowed
        return wrapped

    return decorator


def public(view):
    """Mark a view as intentionally reachable without signing in (sign-in, health, static)."""
    view.permission_roles = "public"
    return view


# Who records a refusal: app.audit, which sits above this module, registers it when imported
# (`record_denials_with`). Without one, nothing is refused unrecorded: deny raises instead.
_record_denial: Callable[..., None] | None = None


def record_denials_with(recorder: Callable[..., None]) -> None:
    global _record_denial
    _record_denial = recorder


def deny(actor: Actor, what: str, ref: str | None = None, status: int = 403):
    """Record the refusal in its own transaction, then abort with `status` (403, or 404)."""
    if _record_denial is None:
        raise RuntimeError("no recorder of refusals: app.audit.services registers it")
    _record_denial(actor, object_type=what, object_ref=ref)
    abort(status)


def not_found(actor: Actor, object_type: str, ref: str | None = None):
    """Out of scope looks exactly like missing: 404, audited as a denial."""
    deny(actor, object_type, ref, status=404)


def org_subtree_ids(actor: Actor):
    """A subquery of the ids of the actor's org unit and every unit below it."""
    import sqlalchemy as sa

    from app.orgs.models import OrgUnit

    if not actor.org_path:
        return sa.select(OrgUnit.id).where(sa.false())
    return sa.select(OrgUnit.id).where(OrgUnit.path.startswith(actor.org_path, autoescape=True))


def in_org_scope(org_unit_id_column, actor: Actor):
    """SQL condition: the row's org unit is in the actor's subtree (none when it has no unit)."""
    return org_unit_id_column.in_(org_subtree_ids(actor))


def in_org_scope_row_by_row(org_unit_id_column, actor: Actor):
    """`in_org_scope`, tested on each row the query has already found (its unit's path, a
    correlated value no planner turns into a join): for queries whose own conditions keep few
    rows of the country, where PostgreSQL answered `in_org_scope` by hashing every case of a
    province's scope first."""
    import sqlalchemy as sa

    from app.orgs.models import OrgUnit

    if not actor.org_path:
        return sa.false()
    unit_path = sa.select(OrgUnit.path).where(OrgUnit.id == org_unit_id_column)
    return unit_path.scalar_subquery().startswith(actor.org_path, autoescape=True)
