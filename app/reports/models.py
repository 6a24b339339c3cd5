"""Plans and their targets: what an org unit signed, so dashboards compare with it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db


class Indicator(StrEnum):
    CONNECTED_RATE = "connected_rate"
    COMMUNES_WITH_OUTREACH = "communes_with_outreach"
    PEOPLE_REACHED = "people_reached"
    STAFF_TRAINED = "staff_trained"
    REFERRALS_ANSWERED = "referrals_answered"


INDICATOR_LABELS = {
    Indicator.CONNECTED_RATE: _l("Tỷ lệ được kết nối dịch vụ"),
    Indicator.COMMUNES_WITH_OUTREACH: _l("Xã, phường có ít nhất một hoạt động tuyên truyền"),
    Indicator.PEOPLE_REACHED: _l("Số người được tuyên truyền"),
    Indicator.STAFF_TRAINED: _l("Cán bộ được tập huấn"),
    Indicator.REFERRALS_ANSWERED: _l("Chuyển gửi được phản hồi đúng hạn"),
}

# Indicators whose target is a percentage; people reached is a number of people.
PERCENT_INDICATORS = frozenset(
    {
        Indicator.CONNECTED_RATE,
        Indicator.COMMUNES_WITH_OUTREACH,
        Indicator.STAFF_TRAINED,
        Indicator.REFERRALS_ANSWERED,
    }
)


DEFAULT_CONNECTED_RATE_TARGET = Decimal("80")
DEFAULT_ANSWER_DAYS = 7


class Plan(db.Model):
    """An org unit's plan (kế hoạch) for a period; plans may overlap."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    number: Mapped[str] = mapped_column(sa.String(60), default="")
    issuing_body: Mapped[str] = mapped_column(sa.String(200), default="")
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    org_unit = relationship("OrgUnit")
    targets: Mapped[list[PlanTarget]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanTarget.id"
    )

    __table_args__ = (sa.CheckConstraint("period_end >= period_start", name="period_order"),)
    __audit_type__ = "plan"

    @property
    def audit_ref(self) -> str:
        return str(self.id)

    def target_for(self, indicator: Indicator, audience: str | None = None) -> PlanTarget | None:
        for target in self.targets:
            if target.indicator == indicator and (target.audience or None) == audience:
                return target
        return None

    def __repr__(self) -> str:
        return f"<Plan {self.id} unit={self.org_unit_id}>"


class PlanTarget(db.Model):
    """One indicator target of a plan: a percentage, or a number of people for people reached."""

    __tablename__ = "plan_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id", ondelete="CASCADE"), index=True)
    indicator: Mapped[str] = mapped_column(sa.String(40))
    # People reached: the audience group (app.outreach.vocab.AUDIENCES); empty otherwise.
    audience: Mapped[str | None] = mapped_column(sa.String(40))
    value: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    # Referrals answered: within how many days.
    days: Mapped[int | None] = mapped_column()

    plan: Mapped[Plan] = relationship(back_populates="targets")

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "indicator", "audience", name="uq_plan_targets_indicator"),
    )

    def __repr__(self) -> str:
        return f"<PlanTarget {self.plan_id} {self.indicator}>"
