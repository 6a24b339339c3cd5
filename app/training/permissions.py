"""Pure predicates: who may record training and staff in post."""

from __future__ import annotations

from app.permissions import Actor, Role

# Caseworkers record the sessions of their subtree, admins those of theirs. Supervisors see the
# indicator on the dashboard; volunteers and partners record nothing here.
ENTRY_ROLES = (Role.CASEWORKER, Role.ADMIN)
# Staff in post belongs to the plan, which admins keep.
STAFFING_ROLES = (Role.ADMIN,)
# Who may be named as an attendee: members of staff and volunteers, never partner staff.
ATTENDEE_ROLES = tuple(r.value for r in Role if r is not Role.PARTNER)
# Named attendees of these roles count as volunteers, the others as officers (cán bộ).
VOLUNTEER_ROLES = (Role.VOLUNTEER.value,)


def can_record(actor: Actor) -> bool:
    return actor.has_role(*ENTRY_ROLES) and bool(actor.org_path)


def can_change(actor: Actor, unit_path: str) -> bool:
    """A session of the actor's subtree, for the roles that record them."""
    return can_record(actor) and actor.covers_path(unit_path)


def can_set_staffing(actor: Actor, plan_unit_path: str) -> bool:
    return actor.has_role(*STAFFING_ROLES) and actor.covers_path(plan_unit_path)
