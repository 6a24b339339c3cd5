"""Pure predicates: who may see and do what with a case (DESIGN.md, "Who uses it")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from app.cases import consents as cons
from app.cases.models import ENCRYPTED_FIELDS, IDENTIFYING_FIELDS
from app.categories import SENSITIVE_CATEGORIES
from app.permissions import Actor, Role

if TYPE_CHECKING:
    from app.cases.models import Case, Need

CASE_ROLES = (Role.CASEWORKER, Role.VOLUNTEER)


def in_case_scope(actor: Actor, case: Case, case_org_path: str | None) -> bool:
    """Caseworkers: their org subtree. Volunteers: cases they opened or are assigned."""
    if actor.has_role(Role.CASEWORKER):
        return actor.covers_path(case_org_path)
    if actor.has_role(Role.VOLUNTEER):
        return actor.user_id is not None and actor.user_id in (
            case.opened_by_id,
            case.assigned_to_id,
        )
    return False


def sees_sensitive(actor: Actor) -> bool:
    """Health, violence and trafficking details: never volunteers."""
    return actor.has_role(Role.CASEWORKER, Role.ADMIN)


def visible_fields(actor: Actor) -> tuple[str, ...]:
    """The encrypted fields the actor may read: health and violence details only if sensitive."""
    return ENCRYPTED_FIELDS if sees_sensitive(actor) else IDENTIFYING_FIELDS


def visible_need_categories(actor: Actor, categories):
    return [c for c in categories if sees_sensitive(actor) or c not in SENSITIVE_CATEGORIES]


def shows_purpose(actor: Actor, purpose: str) -> bool:
    """Whether the actor may see that this consent purpose exists (page and API alike)."""
    return sees_sensitive(actor) or not cons.is_sensitive_purpose(purpose)


def visible_needs(actor: Actor, case: Case) -> list[Need]:
    """The case's needs, without the sensitive categories for those who may not see them."""
    return [
        n for n in case.needs if sees_sensitive(actor) or n.category not in SENSITIVE_CATEGORIES
    ]


def can_manage(actor: Actor, case: Case) -> bool:
    """Needs, consent, notes, status, assignment, transfer, rights: caseworkers, on a live case."""
    return actor.has_role(Role.CASEWORKER) and case.erased_at is None


def can_add_note(actor: Actor, case: Case) -> bool:
    return actor.has_role(Role.CASEWORKER, Role.VOLUNTEER) and case.erased_at is None


def can_erase(actor: Actor, case: Case) -> bool:
    return actor.has_role(Role.CASEWORKER) and case.erased_at is None


def can_accept_transfer(actor: Actor, case: Case, target_path: str | None) -> bool:
    return (
        actor.has_role(Role.CASEWORKER)
        and case.transfer_to_org_unit_id is not None
        and actor.covers_path(target_path)
    )
