"""Scoped reads of follow-ups and the case plan."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.cases.models import Case
from app.extensions import db
from app.followups.models import CaseGoal, FollowUp
from app.permissions import Actor, Role, in_org_scope, not_found


def case_followups(case: Case) -> list[FollowUp]:
    return list(
        db.session.scalars(
            sa.select(FollowUp)
            .where(FollowUp.case_id == case.id)
            .order_by(FollowUp.done_at.is_not(None), FollowUp.due_on, FollowUp.id)
        )
    )


def case_goals(case: Case) -> dict[int, CaseGoal]:
    rows = db.session.scalars(sa.select(CaseGoal).where(CaseGoal.case_id == case.id))
    return {goal.need_id: goal for goal in rows}


def get_followup_or_404(actor: Actor, followup_id: int) -> tuple[FollowUp, bool]:
    """The follow-up if the actor is its assignee or a caseworker of its case's subtree;
    returns it with whether the case is in the actor's scope."""
    followup = db.session.get(FollowUp, followup_id)
    in_scope = False
    if followup is not None and actor.has_role(Role.CASEWORKER):
        in_scope = (
            db.session.scalar(
                sa.select(Case.id).where(
                    Case.id == followup.case_id, in_org_scope(Case.org_unit_id, actor)
                )
            )
            is not None
        )
    if followup is None or not (in_scope or followup.assigned_to_id == actor.user_id):
        not_found(actor, "followup", str(followup_id)[:20])
    return followup, in_scope


def my_open_followups(actor: Actor, until: date) -> list[FollowUp]:
    """Not done, due by `until`, assigned to the actor: overdue first."""
    return list(
        db.session.scalars(
            sa.select(FollowUp)
            .join(Case, Case.id == FollowUp.case_id)
            .where(
                FollowUp.assigned_to_id == actor.user_id,
                FollowUp.done_at.is_(None),
                FollowUp.due_on <= until,
                Case.erased_at.is_(None),
            )
            .options(selectinload(FollowUp.case))
            .order_by(FollowUp.due_on, FollowUp.id)
        )
    )
