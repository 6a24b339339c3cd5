"""Pure predicates of the follow-ups module."""

from __future__ import annotations

from app.cases import permissions as case_perms
from app.followups.models import FollowUp
from app.permissions import Actor, Role


def can_plan(actor: Actor, case) -> bool:
    """Follow-ups are set and the case plan kept by caseworkers of the case's subtree."""
    return case_perms.can_manage(actor, case)


def can_tick(actor: Actor, followup: FollowUp, case_in_scope: bool) -> bool:
    """The assignee ticks her own follow-up; a caseworker of the case may tick any of it."""
    if followup.case.erased_at is not None:
        return False
    if actor.user_id is not None and actor.user_id == followup.assigned_to_id:
        return True
    return actor.has_role(Role.CASEWORKER) and case_in_scope
