"""Scoped reads of the partner directory and of referrals.

Caseworkers see the referrals of cases in their org subtree; partner users only referrals sent
to their own organization (never drafts). Everyone else sees none. Out of scope is 404, audited.
"""

from __future__ import annotations

import uuid
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.cases.disclosures import Disclosure
from app.cases.models import Case
from app.categories import category_label
from app.extensions import db
from app.orgs.models import OrgUnit
from app.permissions import Actor, Role, in_org_scope, in_org_scope_row_by_row, not_found
from app.referrals.models import (
    PartnerOrganization,
    PartnerService,
    Referral,
    partner_service_areas,
)
from app.referrals.sharing import FIELD_LABELS
from app.referrals.status import (
    CONNECTED_OUTCOMES,
    OPEN_STATUSES,
    SENT_STATUSES,
    ReferralStatus,
    local_today,
)

PER_PAGE = 25


def visible_referrals(actor: Actor, *, few: bool = False) -> sa.Select:
    """The referrals the actor may see. `few`: the caller's own conditions keep few referrals
    of the whole country (overdue requests, drafts), so the scope is tested on each of those
    rows (`in_org_scope_row_by_row`): the join made PostgreSQL hash the 96,000 cases of a
    province's scope to keep 47 overdue referrals (30 ms of every caseworker's home at 1M)."""
    stmt = sa.select(Referral).options(
        selectinload(Referral.case),
        selectinload(Referral.service),
        selectinload(Referral.organization),
    )
    return _in_scope(stmt, actor, few)


def visible_referral_rows(actor: Actor, *columns, few: bool = False) -> sa.Select:
    """The same referrals as `visible_referrals`, as plain rows of `columns` (a list that
    shows a referral's number, status and date needs no ORM object, nor its case, service and
    organization loaded beside it). A caseworker's rows may name `Case` columns: her scope
    joins the case."""
    return _in_scope(sa.select(*columns), actor, few)


def _in_scope(stmt: sa.Select, actor: Actor, few: bool) -> sa.Select:
    if actor.has_role(Role.CASEWORKER):
        in_scope = in_org_scope_row_by_row if few else in_org_scope
        return stmt.join(Case, Case.id == Referral.case_id).where(
            in_scope(Case.org_unit_id, actor)
        )
    if actor.has_role(Role.PARTNER) and actor.partner_organization_id is not None:
        return stmt.where(
            Referral.organization_id == _as_uuid(actor.partner_organization_id),
            Referral.status.in_([s.value for s in SENT_STATUSES]),
        )
    return stmt.where(sa.false())


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def get_referral_or_404(actor: Actor, referral_id: int) -> Referral:
    referral = db.session.execute(
        visible_referrals(actor).where(Referral.id == referral_id)
    ).scalar_one_or_none()
    if referral is None:
        not_found(actor, "referral", str(referral_id)[:20])
    return referral


def referral_list(
    actor: Actor,
    *,
    status: str | None = None,
    overdue_only: bool = False,
    today: date | None = None,
    page: int = 1,
):
    today = today or local_today()
    stmt = visible_referrals(actor)
    if status == "open":
        stmt = stmt.where(Referral.status.in_([s.value for s in OPEN_STATUSES]))
    elif status in {s.value for s in ReferralStatus}:
        stmt = stmt.where(Referral.status == status)
    if overdue_only:
        stmt = stmt.where(overdue_condition(today))
    stmt = stmt.order_by(Referral.updated_at.desc(), Referral.id.desc())
    return db.paginate(stmt, page=page, per_page=PER_PAGE, error_out=False)


def overdue_condition(today: date):
    return sa.and_(Referral.status == ReferralStatus.REQUESTED.value, Referral.respond_by < today)


def overdue_count(actor: Actor, today: date | None = None) -> int:
    stmt = visible_referral_rows(actor, Referral.id, few=True).where(
        overdue_condition(today or local_today())
    )
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0


def case_referrals(case: Case) -> list[Referral]:
    return list(
        db.session.execute(
            sa.select(Referral).where(Referral.case_id == case.id).order_by(Referral.id.desc())
        ).scalars()
    )


def connected_need_ids(case: Case) -> set[int]:
    """Needs with a referral completed as service received or enrolled (DESIGN.md)."""
    return set(
        db.session.execute(
            sa.select(Referral.need_id).where(
                Referral.case_id == case.id,
                Referral.status == ReferralStatus.COMPLETED.value,
                Referral.outcome.in_([o.value for o in CONNECTED_OUTCOMES]),
            )
        ).scalars()
    )


def case_disclosures(case: Case) -> list:
    """The partner organizations her data was sent to (referrals sent, drafts never), when,
    and which fields: for the printout of everything held about her."""
    referrals = db.session.execute(
        sa.select(Referral)
        .where(Referral.case_id == case.id, Referral.sent_at.is_not(None))
        .options(selectinload(Referral.organization))
        .order_by(Referral.sent_at)
    ).scalars()
    return [
        Disclosure(
            recipient=r.organization.name,
            shared_at=r.sent_at,
            what=[str(FIELD_LABELS[f]) for f in (r.shared_fields or []) if f in FIELD_LABELS],
            purpose=category_label(r.category),
            stopped_at=r.withdrawn_at,
        )
        for r in referrals
    ]


# -- directory ---------------------------------------------------------------------------------


def search_services(
    category: str | None = None,
    org_unit: OrgUnit | None = None,
    text: str | None = None,
    only_referrable: bool = False,
) -> sa.Select:
    """Services by category and area: areas above or below the chosen unit both match."""
    stmt = sa.select(PartnerService).options(
        selectinload(PartnerService.organization), selectinload(PartnerService.areas)
    )
    if category:
        stmt = stmt.where(PartnerService.category == category)
    if org_unit is not None:
        area = sa.orm.aliased(OrgUnit)
        covering = (
            sa.select(partner_service_areas.c.service_id)
            .join(area, area.id == partner_service_areas.c.org_unit_id)
            .where(
                sa.or_(
                    sa.literal(org_unit.path).like(area.path + "%"),
                    area.path.startswith(org_unit.path, autoescape=True),
                )
            )
        )
        stmt = stmt.where(PartnerService.id.in_(covering))
    if text:
        like = f"%{text.strip()}%"
        stmt = stmt.join(PartnerOrganization).where(
            sa.or_(PartnerService.name.ilike(like), PartnerOrganization.name.ilike(like))
        )
    if only_referrable:
        stmt = stmt.where(
            PartnerService.status == "active", PartnerService.is_accepting_referrals.is_(True)
        )
    return stmt.order_by(PartnerService.category, PartnerService.name)


def referrable_services(case: Case, category: str) -> sa.Select:
    """Active services of the category accepting referrals whose areas cover the case's unit."""
    covering = (
        sa.select(partner_service_areas.c.service_id)
        .join(OrgUnit, OrgUnit.id == partner_service_areas.c.org_unit_id)
        .where(sa.literal(case.org_unit.path).like(OrgUnit.path + "%"))
    )
    return (
        sa.select(PartnerService)
        .where(
            PartnerService.category == category,
            PartnerService.status == "active",
            PartnerService.is_accepting_referrals.is_(True),
            PartnerService.id.in_(covering),
        )
        .order_by(PartnerService.name)
    )


def suggestions_for(referral: Referral, limit: int = 5) -> list[PartnerService]:
    """Other services of the same category covering the case's area."""
    stmt = referrable_services(referral.case, referral.category).where(
        PartnerService.id != referral.service_id
    )
    return list(db.session.execute(stmt.limit(limit)).scalars())


def organizations() -> list[PartnerOrganization]:
    return list(
        db.session.execute(
            sa.select(PartnerOrganization).order_by(PartnerOrganization.name)
        ).scalars()
    )


def _get_or_404(actor: Actor, model, object_type: str, object_id):
    try:
        key = _as_uuid(object_id)
    except (ValueError, TypeError):
        not_found(actor, object_type, None)
    obj = db.session.get(model, key)
    if obj is None:
        not_found(actor, object_type, str(key))
    return obj


def get_organization_or_404(actor: Actor, org_id) -> PartnerOrganization:
    return _get_or_404(actor, PartnerOrganization, "partner_organization", org_id)


def get_service_or_404(actor: Actor, service_id) -> PartnerService:
    return _get_or_404(actor, PartnerService, "partner_service", service_id)


def org_units() -> list[OrgUnit]:
    return list(
        db.session.execute(
            sa.select(OrgUnit).where(OrgUnit.is_retired.is_(False)).order_by(OrgUnit.path)
        ).scalars()
    )


def partner_users() -> list:
    from app.orgs.models import User

    return list(
        db.session.execute(
            sa.select(User).where(User.role == Role.PARTNER).order_by(User.username)
        ).scalars()
    )


def get_partner_user_or_404(actor: Actor, user_id: int | None):
    from app.orgs.models import User

    user = db.session.get(User, user_id) if user_id else None
    if user is None or user.role != Role.PARTNER:
        not_found(actor, "user", str(user_id)[:20] if user_id else None)
    return user
