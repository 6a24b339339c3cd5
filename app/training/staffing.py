"""Staff in post: how many officers work at each unit, entered by admins per plan (the
denominator of the staff-trained rate). Audited like every change to a plan."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit import services as audit
from app.db import utcnow
from app.extensions import db
from app.permissions import Actor, PermissionDenied
from app.reports.models import Plan
from app.training import permissions, queries
from app.training.models import StaffInPost
from app.training.services import InvalidEntry
from app.training.vocab import MAX_STAFF_IN_POST


def staff_in_post(plan: Plan) -> dict[int, int]:
    """org unit id -> officers in post, as entered for the plan."""
    rows = db.session.execute(
        sa.select(StaffInPost.org_unit_id, StaffInPost.officers).where(
            StaffInPost.plan_id == plan.id
        )
    )
    return {unit_id: officers for unit_id, officers in rows}


def set_staff_in_post(actor: Actor, plan: Plan, values: dict[int, int | None]) -> list[str]:
    """An admin enters how many officers work at each unit of the plan's subtree (empty: not
    known, removed). Returns the codes of the units that changed."""
    if not actor.is_system and not permissions.can_set_staffing(actor, plan.org_unit.path):
        raise PermissionDenied
    units = {u.id: u for u in db.session.execute(queries.units_under(plan.org_unit.path)).scalars()}
    errors = {}
    for uid, value in values.items():
        if uid not in units:
            raise PermissionDenied
        if value is not None and (isinstance(value, bool) or not 0 <= value <= MAX_STAFF_IN_POST):
            errors[uid] = _("Số cán bộ phải từ 0 đến %(max)s.", max=f"{MAX_STAFF_IN_POST:,}")
    if errors:
        raise InvalidEntry({str(k): v for k, v in errors.items()})
    have = {
        row.org_unit_id: row
        for row in db.session.execute(
            sa.select(StaffInPost).where(StaffInPost.plan_id == plan.id)
        ).scalars()
    }
    changed = []
    for uid, value in values.items():
        row = have.get(uid)
        if value is None and row is not None:
            db.session.delete(row)
        elif value is not None and row is None:
            db.session.add(StaffInPost(plan_id=plan.id, org_unit_id=uid, officers=value))
        elif value is not None and row.officers != value:
            row.officers, row.updated_at = value, utcnow()
        else:
            continue
        changed.append(units[uid].code)
    if changed:
        db.session.flush()
        audit.record(
            actor,
            "plan.staffing_updated",
            plan,
            org_unit_id=plan.org_unit_id,
            details={
                "org_unit": plan.org_unit.code,
                "count": len(changed),
                "changed_fields": [f"staff_in_post:{code}" for code in sorted(changed)],
            },
        )
    return sorted(changed)
