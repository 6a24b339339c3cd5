"""Who may do what with the partner directory and referrals: pure predicates."""

from __future__ import annotations

from app.permissions import Actor, Role
from app.referrals.status import Party

DIRECTORY_READERS = (Role.ADMIN, Role.CASEWORKER, Role.SUPERVISOR, Role.VOLUNTEER)
DIRECTORY_MANAGERS = (Role.ADMIN, Role.CASEWORKER)


def can_manage_directory(actor: Actor) -> bool:
    """Admins and caseworkers keep the partner directory (and the command line)."""
    return actor.has_role(*DIRECTORY_MANAGERS) or actor.is_system


def can_search_directory(actor: Actor) -> bool:
    """Anyone signed in except partners."""
    return actor.has_role(*DIRECTORY_READERS)


def party_of(actor: Actor, referral) -> Party | None:
    """The side the actor acts on for this referral, or None when they have no part in it."""
    if actor.is_system:
        return Party.SYSTEM
    if actor.has_role(Role.CASEWORKER):
        return Party.CASEWORKER
    if (
        actor.has_role(Role.PARTNER)
        and actor.partner_organization_id is not None
        and str(actor.partner_organization_id) == str(referral.organization_id)
    ):
        return Party.PARTNER
    return None


def can_refer(actor: Actor) -> bool:
    return actor.has_role(Role.CASEWORKER)
