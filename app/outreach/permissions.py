"""Pure predicates: who may log, see and change outreach entries."""

from __future__ import annotations

from datetime import datetime, timedelta

from app.outreach.models import OutreachActivity
from app.permissions import Actor, Role

# Roles that log outreach. Supervisors see only the figures, through reports.
LOGGING_ROLES = (Role.VOLUNTEER, Role.CASEWORKER)

# A volunteer may correct their own entry for this long; afterwards a caseworker of the subtree.
VOLUNTEER_EDIT_WINDOW = timedelta(days=7)


def can_log(actor: Actor) -> bool:
    return actor.has_role(*LOGGING_ROLES) and bool(actor.org_path)


def can_view(actor: Actor, unit_path: str) -> bool:
    """Entries of the actor's subtree, for the roles that log them."""
    return can_log(actor) and actor.covers_path(unit_path)


def can_change(actor: Actor, activity: OutreachActivity, unit_path: str, now: datetime) -> bool:
    """Own entries for 7 days for volunteers; any entry of the subtree for caseworkers."""
    if activity.deleted_at is not None or not can_view(actor, unit_path):
        return False
    if actor.has_role(Role.CASEWORKER):
        return True
    return (
        actor.has_role(Role.VOLUNTEER)
        and activity.created_by_id == actor.user_id
        and now - activity.created_at < VOLUNTEER_EDIT_WINDOW
    )


def has_backdating_limit(actor: Actor) -> bool:
    """Volunteers log recent events only; caseworkers may record older ones."""
    return actor.has_role(Role.VOLUNTEER)
