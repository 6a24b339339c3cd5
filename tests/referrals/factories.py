"""Builders for the partner directory and for consented cases with needs (referral tests)."""

from __future__ import annotations

import itertools
from datetime import date

from app.cases import consents as purposes
from app.cases.fields import set_field
from app.cases.models import Case, Consent, Need
from app.crypto.envelope import create_data_key
from app.extensions import db
from app.referrals.models import (
    PartnerLocation,
    PartnerOrganization,
    PartnerPhone,
    PartnerService,
    PartnerServiceAtLocation,
)

_seq = itertools.count(1)


def make_org(name: str = "Trung tâm thử nghiệm", **values) -> PartnerOrganization:
    org = PartnerOrganization(name=name, description=values.pop("description", "Mô tả"), **values)
    db.session.add(org)
    db.session.flush()
    return org


def make_service(
    org: PartnerOrganization,
    category: str = "health",
    areas=(),
    response_days: int = 5,
    name: str | None = None,
    **values,
) -> PartnerService:
    service = PartnerService(
        organization=org,
        name=name or f"Dịch vụ {next(_seq)}",
        category=category,
        response_days=response_days,
        description=values.pop("description", "Mô tả dịch vụ"),
        **values,
    )
    service.areas = list(areas)
    db.session.add(service)
    db.session.flush()
    return service


def make_location(org: PartnerOrganization, service: PartnerService | None = None):
    loc = PartnerLocation(
        organization=org,
        name="Cơ sở chính",
        address_1="12 Đường Lê Lợi",
        city="Hoa Lư",
        state_province="Ninh Bình",
        postal_code="",
        country="VN",
    )
    db.session.add(loc)
    db.session.flush()
    db.session.add(PartnerPhone(organization_id=org.id, location_id=loc.id, number="0229 3888 111"))
    if service is not None:
        service.service_at_locations.append(PartnerServiceAtLocation(location=loc))
    db.session.flush()
    return loc


ALL_SHARING = tuple(
    purposes.share_purpose(c)
    for c in (
        "vocational_training",
        "loans",
        "jobs",
        "health",
        "legal_aid",
        "counselling",
        "social_protection",
        "violence_support",
        "trafficking_support",
        "other",
    )
)


def make_case(
    org_unit,
    consents=("record", "share:health", "contact_phone"),
    needs=("health",),
    preferred_name: str = "Chị Lan",
    phone: str = "0912 345 678",
    health_details: str | None = "Đang điều trị ARV",
    violence_details: str | None = "Bị chồng đánh năm 2025",
    user=None,
) -> Case:
    n = next(_seq)
    case = Case(
        code=f"NB-2026-{n:05d}",
        org_unit=org_unit,
        org_unit_id=org_unit.id,
        opened_on=date(2026, 1, 5),
        opened_by_id=user.id if user else None,
    )
    db.session.add(case)
    case.data_key = create_data_key()
    db.session.flush()
    set_field(case, "full_name", "Nguyễn Thị Lan")
    set_field(case, "preferred_name", preferred_name)
    set_field(case, "phone", phone)
    set_field(case, "health_details", health_details)
    set_field(case, "violence_details", violence_details)
    for purpose in consents:
        case.consents.append(
            Consent(
                purpose=purpose,
                method="verbal",
                text_version="2026-01",
                recorded_by_id=user.id if user else None,
            )
        )
    for category in needs:
        case.needs.append(Need(category=category, identified_on=date(2026, 1, 6)))
    db.session.flush()
    return case
