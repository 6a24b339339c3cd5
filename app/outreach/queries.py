"""Scoped reads: an entry or a commune outside the actor's subtree is 404 (and audited)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit
from app.outreach.models import OutreachActivity
from app.permissions import Actor, not_found

COMMUNE_LEVELS = (OrgLevel.COMMUNE.value, OrgLevel.WARD.value)


def communes_under(path: str | None):
    """Select of the non-retired communes and wards at or below the unit with `path`."""
    if not path:
        return sa.select(OrgUnit).where(sa.false())
    return sa.select(OrgUnit).where(
        OrgUnit.path.startswith(path, autoescape=True),
        OrgUnit.level.in_(COMMUNE_LEVELS),
        OrgUnit.is_retired.is_(False),
    )


def communes_in_scope(actor: Actor) -> list[OrgUnit]:
    """The communes the actor may log for: a volunteer's own, a caseworker's subtree."""
    stmt = communes_under(actor.org_path).order_by(OrgUnit.name, OrgUnit.code)
    return list(db.session.execute(stmt).scalars())


def get_commune_or_404(actor: Actor, org_unit_id: int | None) -> OrgUnit:
    unit = db.session.get(OrgUnit, org_unit_id) if isinstance(org_unit_id, int) else None
    if (
        unit is None
        or unit.is_retired
        or unit.level not in COMMUNE_LEVELS
        or not actor.covers_path(unit.path)
    ):
        not_found(actor, "org_unit", str(org_unit_id))
    return unit


def visible_activities(actor: Actor, *, mine: bool = False, org_unit_id: int | None = None):
    """Select of the live entries in the actor's subtree, newest event first."""
    if not actor.org_path:
        return sa.select(OutreachActivity).where(sa.false())
    stmt = (
        sa.select(OutreachActivity)
        .join(OrgUnit, OrgUnit.id == OutreachActivity.org_unit_id)
        .where(
            OrgUnit.path.startswith(actor.org_path, autoescape=True),
            OutreachActivity.deleted_at.is_(None),
        )
        .options(selectinload(OutreachActivity.topic_rows), selectinload(OutreachActivity.org_unit))
        .order_by(OutreachActivity.held_on.desc(), OutreachActivity.id.desc())
    )
    if mine:
        stmt = stmt.where(OutreachActivity.created_by_id == actor.user_id)
    if org_unit_id is not None:
        stmt = stmt.where(OutreachActivity.org_unit_id == org_unit_id)
    return stmt


def get_activity_or_404(actor: Actor, activity_id: int) -> OutreachActivity:
    activity = db.session.get(OutreachActivity, activity_id)
    if (
        activity is None
        or activity.deleted_at is not None
        or not actor.covers_path(unit_path(activity))
    ):
        not_found(actor, "outreach_activity", str(activity_id))
    return activity


def unit_path(activity: OutreachActivity) -> str:
    return activity.org_unit.path if activity.org_unit else ""


def find_by_key(key: str) -> OutreachActivity | None:
    return db.session.execute(
        sa.select(OutreachActivity).where(OutreachActivity.idempotency_key == key)
    ).scalar_one_or_none()
