"""Scoped read queries of the reports module: units and plans within the actor's subtree."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.orgs.models import OrgUnit
from app.permissions import Actor, not_found
from app.reports.models import Plan


def actor_unit(actor: Actor) -> OrgUnit | None:
    if actor.org_unit_id is None:
        return None
    return db.session.get(OrgUnit, actor.org_unit_id)


def get_unit_or_404(actor: Actor, code: str | None) -> OrgUnit:
    """The actor's own unit when `code` is empty, else a unit of the actor's subtree (or 404)."""
    if not code:
        unit = actor_unit(actor)
        if unit is None:
            not_found(actor, "org_unit")
        return unit
    unit = db.session.execute(
        sa.select(OrgUnit).where(OrgUnit.code == code[:20])
    ).scalar_one_or_none()
    if unit is None or not actor.covers_path(unit.path):
        not_found(actor, "org_unit", code[:20])
    return unit


def units_in_scope(actor: Actor) -> list[OrgUnit]:
    if not actor.org_path:
        return []
    stmt = (
        sa.select(OrgUnit)
        .where(OrgUnit.path.startswith(actor.org_path, autoescape=True))
        .where(OrgUnit.is_retired.is_(False))
        .order_by(OrgUnit.path)
    )
    return list(db.session.execute(stmt).scalars())


def plans_in_scope(actor: Actor) -> list[Plan]:
    if not actor.org_path:
        return []
    stmt = (
        sa.select(Plan)
        .join(OrgUnit, OrgUnit.id == Plan.org_unit_id)
        .where(OrgUnit.path.startswith(actor.org_path, autoescape=True))
        .order_by(Plan.period_start.desc(), Plan.id.desc())
    )
    return list(db.session.execute(stmt).scalars())


def get_plan_or_404(actor: Actor, plan_id: int) -> Plan:
    plan = db.session.get(Plan, plan_id)
    if plan is None or not actor.covers_path(plan.org_unit.path):
        not_found(actor, "plan", str(plan_id))
    return plan
