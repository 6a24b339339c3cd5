"""Who may manage org units and users: pure predicates, no database."""

from __future__ import annotations

from app.permissions import Actor, Role


def can_manage_org_units(actor: Actor) -> bool:
    """Admins, and command-line maintenance (the system actor)."""
    return actor.has_role(Role.ADMIN) or actor.is_system


def can_manage_users(actor: Actor) -> bool:
    """Admins, and command-line maintenance (the system actor, e.g. creating the first admin)."""
    return actor.has_role(Role.ADMIN) or actor.is_system
