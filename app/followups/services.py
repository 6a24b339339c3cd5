"""Follow-ups and the case plan: set, tick, review. Each checks its rule, flushes, audits on
the case (so the case's access history shows it) and never commits."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.cases.queries import assignable_users
from app.crypto.envelope import seal, unseal
from app.db import utcnow
from app.extensions import db
from app.followups import permissions
from app.followups.models import CaseGoal, FollowUp
from app.notifications.kinds import Kind
from app.notifications.outbox import notify
from app.permissions import Actor, PermissionDenied

TASK_MAX = 200
GOAL_MAX = 300
REVIEW_MAX = 1000


class FollowUpError(Exception):
    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


def _seal(case, value: str | None, table: str, column: str, row_id: int) -> bytes | None:
    return seal(case.data_key, value, table=table, column=column, row_id=row_id)


def read_task(followup: FollowUp) -> str | None:
    return unseal(
        followup.case.data_key,
        followup.task_enc,
        table="followups",
        column="task_enc",
        row_id=followup.id,
    )


def read_goal(goal: CaseGoal, case) -> tuple[str | None, str | None]:
    def open_(column: str) -> str | None:
        return unseal(
            case.data_key, getattr(goal, column), table="case_goals", column=column, row_id=goal.id
        )

    return open_("goal_enc"), open_("review_note_enc")


def add_followup(
    actor: Actor,
    case,
    *,
    due_on: date | None,
    task: str,
    assignee_id: int | None,
    referral=None,
    today: date,
) -> FollowUp:
    """A caseworker sets a dated task on the case (or one of its referrals) for herself, a
    caseworker or a volunteer of the unit; the assignee is told."""
    if not permissions.can_plan(actor, case):
        raise PermissionDenied
    task = " ".join((task or "").split())
    if not task:
        raise FollowUpError("task", _l("Hãy ghi việc cần làm."))
    if len(task) > TASK_MAX:
        raise FollowUpError("task", _l("Việc cần làm quá dài (tối đa 200 ký tự)."))
    if due_on is None or due_on < today:
        raise FollowUpError("due_on", _l("Hãy chọn ngày hẹn từ hôm nay trở đi."))
    assignee_id = assignee_id or actor.user_id
    if assignee_id not in {u.id for u in assignable_users(actor, case)}:
        raise FollowUpError("assignee_id", _l("Người được giao không thuộc đơn vị của hồ sơ."))
    if referral is not None and referral.case_id != case.id:
        raise FollowUpError("referral_id", _l("Chuyển gửi không thuộc hồ sơ này."))
    followup = FollowUp(
        case_id=case.id,
        case=case,
        referral_id=referral.id if referral is not None else None,
        due_on=due_on,
        assigned_to_id=assignee_id,
        created_by_id=actor.user_id,
        created_at=utcnow(),
    )
    db.session.add(followup)
    db.session.flush()
    followup.task_enc = _seal(case, task, "followups", "task_enc", followup.id)
    db.session.flush()
    audit.record(actor, "followup.created", case, details={"target": str(followup.id)})
    notify(
        [assignee_id],
        Kind.FOLLOWUP_ASSIGNED,
        actor=actor,
        link=_link(case),
        object_type="followup",
        object_id=followup.id,
        params={"date": due_on.strftime("%d/%m/%Y")},
    )
    return followup


def _link(case) -> str:
    return f"/cases/{case.code}/plan"


def set_done(actor: Actor, followup: FollowUp, done: bool, case_in_scope: bool) -> FollowUp:
    """Tick (or untick) a follow-up: its assignee, or a caseworker of the case."""
    if not permissions.can_tick(actor, followup, case_in_scope):
        raise PermissionDenied
    if done == followup.is_done:
        return followup
    followup.done_at = utcnow() if done else None
    followup.done_by_id = actor.user_id if done else None
    db.session.flush()
    action = "followup.done" if done else "followup.reopened"
    audit.record(actor, action, followup.case, details={"target": str(followup.id)})
    return followup


def set_goal(
    actor: Actor,
    case,
    need,
    *,
    goal: str,
    target_on: date | None,
    review_note: str,
) -> CaseGoal:
    """The case plan: one goal per need, its target date and a review note."""
    if not permissions.can_plan(actor, case):
        raise PermissionDenied
    if need.case_id != case.id:
        raise FollowUpError("need", _l("Nhu cầu không thuộc hồ sơ này."))
    goal = " ".join((goal or "").split())
    review_note = (review_note or "").strip()
    if not goal:
        raise FollowUpError("goal", _l("Hãy ghi mục tiêu cho nhu cầu này."))
    if len(goal) > GOAL_MAX:
        raise FollowUpError("goal", _l("Mục tiêu quá dài (tối đa 300 ký tự)."))
    if len(review_note) > REVIEW_MAX:
        raise FollowUpError("review_note", _l("Ghi chú đánh giá quá dài (tối đa 1000 ký tự)."))
    row = db.session.query(CaseGoal).filter_by(need_id=need.id).one_or_none()
    old_goal, old_review, old_target = (None, None, None)
    if row is None:
        row = CaseGoal(case_id=case.id, need_id=need.id)
        db.session.add(row)
        db.session.flush()
    else:
        old_goal, old_review = read_goal(row, case)
        old_target = row.target_on
    changed = [
        name
        for name, old, new in (
            ("goal", old_goal, goal),
            ("target_on", old_target, target_on),
            ("review_note", old_review or "", review_note),
        )
        if old != new
    ]
    if not changed:
        return row
    row.goal_enc = _seal(case, goal, "case_goals", "goal_enc", row.id)
    row.review_note_enc = _seal(case, review_note or None, "case_goals", "review_note_enc", row.id)
    row.target_on = target_on
    row.updated_at = utcnow()
    row.updated_by_id = actor.user_id
    if "review_note" in changed:
        row.reviewed_at = utcnow()
    db.session.flush()
    action = "caseplan.reviewed" if changed == ["review_note"] else "caseplan.goal_set"
    audit.record(
        actor, action, case, details={"changed_fields": changed, "category": need.category}
    )
    return row
