"""Scoped reads: a session, a unit or a plan outside the actor's subtree is 404 (and audited)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, not_found
from app.training.models import TrainingHeadcount, TrainingSession
from app.training.permissions import ATTENDEE_ROLES


def units_under(path: str | None):
    """Select of the non-retired units at or below the unit with `path`."""
    if not path:
        return sa.select(OrgUnit).where(sa.false())
    return (
        sa.select(OrgUnit)
        .where(OrgUnit.path.startswith(path, autoescape=True), OrgUnit.is_retired.is_(False))
        .order_by(OrgUnit.path)
    )


def units_in_scope(actor: Actor) -> list[OrgUnit]:
    return list(db.session.execute(units_under(actor.org_path)).scalars())


def staff_under(path: str | None):
    """Select of the accounts that may be named as attendees at or below `path`: members of
    staff and volunteers, not partner staff, by unit then name."""
    if not path:
        return sa.select(User).where(sa.false())
    return (
        sa.select(User)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(OrgUnit.path.startswith(path, autoescape=True), User.role.in_(ATTENDEE_ROLES))
        .order_by(OrgUnit.path, User.display_name, User.username)
    )


def staff_in_scope(actor: Actor, *, enabled_only: bool = True) -> list[User]:
    stmt = staff_under(actor.org_path)
    if enabled_only:
        stmt = stmt.where(User.is_enabled.is_(True))
    return list(db.session.execute(stmt).scalars())


def visible_sessions(actor: Actor, *, year: int | None = None):
    """Select of the live sessions held by units of the actor's subtree, newest first."""
    if not actor.org_path:
        return sa.select(TrainingSession).where(sa.false())
    stmt = (
        sa.select(TrainingSession)
        .join(OrgUnit, OrgUnit.id == TrainingSession.org_unit_id)
        .where(
            OrgUnit.path.startswith(actor.org_path, autoescape=True),
            TrainingSession.deleted_at.is_(None),
        )
        .options(
            selectinload(TrainingSession.org_unit),
            selectinload(TrainingSession.attendees),
            selectinload(TrainingSession.headcounts).selectinload(TrainingHeadcount.org_unit),
        )
        .order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
    )
    if year is not None:
        stmt = stmt.where(TrainingSession.held_on.between(date(year, 1, 1), date(year, 12, 31)))
    return stmt


def get_session_or_404(actor: Actor, session_id: int) -> TrainingSession:
    session = db.session.get(TrainingSession, session_id)
    if (
        session is None
        or session.deleted_at is not None
        or not actor.covers_path(session.org_unit.path)
    ):
        not_found(actor, "training_session", str(session_id))
    return session


def find_by_import_key(key: str) -> TrainingSession | None:
    return db.session.execute(
        sa.select(TrainingSession).where(TrainingSession.import_key == key)
    ).scalar_one_or_none()
