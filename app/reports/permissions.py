"""Pure predicates: who may see which report figures."""

from __future__ import annotations

from app.permissions import Actor, Role

DASHBOARD_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)
EXPORT_ROLES = (Role.CASEWORKER, Role.SUPERVISOR)
PLAN_ROLES = (Role.ADMIN,)


def can_manage_plans(actor: Actor) -> bool:
    return actor.has_role(*PLAN_ROLES)


def can_export(actor: Actor) -> bool:
    return actor.has_role(*EXPORT_ROLES)


def figures_protected(actor: Actor) -> bool:
    """Everyone but a caseworker (who may open the cases anyway) gets suppressed figures."""
    return not actor.has_role(Role.CASEWORKER)


def may_open_cases(actor: Actor) -> bool:
    """Only caseworkers get links from figures to their own cases; supervisors never do."""
    return actor.has_role(Role.CASEWORKER)
