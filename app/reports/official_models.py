"""Per-plan settings of the official report: the statutory cut-off days (Decree 09/2019 by
default) and who signs."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db


@dataclass(frozen=True)
class RuleDates:
    """(month, day) of the first day (in the year before when in the second half) and of the
    last day of the six-monthly and annual periods."""

    start: tuple[int, int] = (12, 15)
    six_monthly_end: tuple[int, int] = (6, 14)
    annual_end: tuple[int, int] = (12, 14)


DEFAULT_RULE = RuleDates()


class OfficialReportRule(db.Model):
    """A plan's own cut-off days and signer, when they differ from the defaults."""

    __tablename__ = "official_report_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id"), unique=True)
    start_month: Mapped[int] = mapped_column(default=12)
    start_day: Mapped[int] = mapped_column(default=15)
    six_monthly_end_month: Mapped[int] = mapped_column(default=6)
    six_monthly_end_day: Mapped[int] = mapped_column(default=14)
    annual_end_month: Mapped[int] = mapped_column(default=12)
    annual_end_day: Mapped[int] = mapped_column(default=14)

    @classmethod
    def of_plan(cls, plan_id: int) -> OfficialReportRule | None:
        return db.session.execute(sa.select(cls).where(cls.plan_id == plan_id)).scalar_one_or_none()

    @property
    def dates(self) -> RuleDates:
        return RuleDates(
            (self.start_month, self.start_day),
            (self.six_monthly_end_month, self.six_monthly_end_day),
            (self.annual_end_month, self.annual_end_day),
        )
