"""Periodic jobs of the follow-ups module (app/jobs): tell each assignee once when her
follow-up is due."""

from __future__ import annotations

import sqlalchemy as sa

from app import jobs
from app.cases.models import Case
from app.extensions import db
from app.followups.models import FollowUp
from app.notifications.kinds import Kind
from app.notifications.outbox import notify
from app.permissions import Actor
from app.referrals.status import local_today


def remind_followups() -> int:
    """Follow-ups due today or overdue, not done: one reminder each, ever."""
    today = local_today()
    due = db.session.scalars(
        sa.select(FollowUp)
        .join(Case, Case.id == FollowUp.case_id)
        .where(FollowUp.done_at.is_(None), FollowUp.due_on <= today, Case.erased_at.is_(None))
        .order_by(FollowUp.id)
    ).all()
    written = 0
    system = Actor.system("followups-remind")
    for followup in due:
        written += len(
            notify(
                [followup.assigned_to_id],
                Kind.FOLLOWUP_DUE,
                actor=system,
                link=f"/cases/{followup.case.code}/plan",
                object_type="followup",
                object_id=followup.id,
                params={"date": followup.due_on.strftime("%d/%m/%Y")},
                dedupe=f"followup_due:{followup.id}",
            )
        )
    return written


jobs.every("followups-remind", "app.followups.tasks:remind_followups", minutes=30)
