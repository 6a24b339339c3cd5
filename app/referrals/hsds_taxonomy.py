"""Taxonomy terms of imported HSDS files, mapped by admins to Cầu Nối's support categories.

A service imported under terms nobody has mapped yet is "chưa phân loại" (category None): it is
listed in the directory, flagged, and never offered for a referral. Mapping a term classifies,
at once and in the same transaction, every service carrying it that had no category, or had the
category the term was mapped to before.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.audit import services as audit
from app.categories import SupportCategory
from app.extensions import db
from app.permissions import Actor, PermissionDenied
from app.referrals import permissions
from app.referrals.models import PartnerService, TaxonomyMapping


def _mapping(term: dict) -> TaxonomyMapping:
    term_id = str(term.get("id"))[:64]
    mapping = db.session.execute(
        sa.select(TaxonomyMapping).where(TaxonomyMapping.term_id == term_id)
    ).scalar_one_or_none()
    if mapping is None:
        mapping = TaxonomyMapping(
            term_id=term_id,
            taxonomy=str(term.get("taxonomy") or "")[:200],
            code=str(term.get("code") or "")[:200],
            name=str(term.get("name") or "")[:300],
        )
        db.session.add(mapping)
        db.session.flush()
    return mapping


def category_of_term(term: dict) -> str | None:
    """The category a term is mapped to; a term seen for the first time is listed, unmapped."""
    return _mapping(term).category


def term_ids_of(service: PartnerService) -> set[str]:
    """The taxonomy terms a service came in with (its attributes, kept verbatim)."""
    ids = set()
    for attr in (service.hsds_original or {}).get("attributes") or []:
        if not isinstance(attr, dict):
            continue
        term = attr.get("taxonomy_term") if isinstance(attr.get("taxonomy_term"), dict) else {}
        ids.add(str(term.get("id") or attr.get("taxonomy_term_id") or ""))
    return ids - {""}


def mappings() -> list[TaxonomyMapping]:
    return list(
        db.session.execute(
            sa.select(TaxonomyMapping).order_by(
                TaxonomyMapping.category.is_not(None),
                TaxonomyMapping.taxonomy,
                TaxonomyMapping.name,
            )
        ).scalars()
    )


def unclassified_services() -> list[PartnerService]:
    return list(
        db.session.execute(
            sa.select(PartnerService)
            .where(PartnerService.category.is_(None))
            .order_by(PartnerService.name)
        ).scalars()
    )


def map_term(actor: Actor, mapping: TaxonomyMapping, category: str | None) -> list[PartnerService]:
    """Admins and caseworkers map a term; the services it classifies follow. Returns them."""
    if not permissions.can_manage_directory(actor):
        raise PermissionDenied
    if category is not None:
        category = SupportCategory(category).value
    previous, mapping.category = mapping.category, category
    changed = []
    candidates = db.session.execute(
        sa.select(PartnerService).where(
            sa.or_(PartnerService.category.is_(None), PartnerService.category == previous)
        )
    ).scalars()
    for service in candidates:
        if mapping.term_id in term_ids_of(service) and service.category in (None, previous):
            service.category = category
            changed.append(service)
    db.session.flush()
    audit.record(
        actor,
        "partner.updated",
        object_type="taxonomy_mapping",
        object_ref=str(mapping.id),
        details={"category": category or "", "count": len(changed)},
    )
    return changed
