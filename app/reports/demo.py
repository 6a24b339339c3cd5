"""The demo province's 2026 plan, so the dashboards compare with a target (idempotent)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from app.audit import services as audit
from app.extensions import db
from app.orgs.models import OrgUnit
from app.permissions import Actor
from app.reports.models import Indicator, Plan, PlanTarget

PROVINCE_CODE = "37"
PLAN_NAME = "Kế hoạch phòng, chống mại dâm năm 2026 (demo)"
TARGETS = [
    (Indicator.CONNECTED_RATE, None, Decimal("80"), None),
    (Indicator.COMMUNES_WITH_OUTREACH, None, Decimal("100"), None),
    (Indicator.REFERRALS_ANSWERED, None, Decimal("90"), 7),
    (Indicator.PEOPLE_REACHED, "wu_members", Decimal("2000"), None),
    (Indicator.PEOPLE_REACHED, "business_workers", Decimal("300"), None),
    (Indicator.STAFF_TRAINED, None, Decimal("100"), None),
]


def seed(password: str, **kwargs) -> None:
    province = db.session.execute(
        sa.select(OrgUnit).where(OrgUnit.code == PROVINCE_CODE)
    ).scalar_one_or_none()
    if province is None:
        return
    exists = db.session.execute(
        sa.select(Plan.id).where(Plan.org_unit_id == province.id, Plan.name == PLAN_NAME)
    ).scalar()
    if exists is not None:
        return
    plan = Plan(
        org_unit_id=province.id,
        name=PLAN_NAME,
        number="37/KH-UBND (demo)",
        issuing_body="Ủy ban nhân dân tỉnh Ninh Bình (demo)",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        targets=[
            PlanTarget(indicator=i.value, audience=a, value=v, days=d) for i, a, v, d in TARGETS
        ],
    )
    db.session.add(plan)
    db.session.flush()
    audit.record(
        Actor.system("demo"),
        "plan.created",
        plan,
        org_unit_id=province.id,
        details={"org_unit": province.code, "period": "2026-01-01/2026-12-31"},
    )
