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


# ------------------------------------------------------------------------------ figures tables
# The reports' own read model (app.reports.figures keeps it up to date): per case and reporting
# period, the clear figures the indicators count, so a province dashboard reads a few narrow
# index ranges instead of joining cases, needs, consents and referrals. A period is the key
# (year, half): a calendar year (half 0) or one of its halves (1: January-June, 2: July-
# December), or a statutory period of a counted rule (10 * rule + 1: six-monthly, + 2: annual,
# ending in that year; app.reports.periods says why and how).


class PeriodRule(db.Model):
    """A set of statutory cut-off days whose periods the figures tables count (rule 1: Decree
    09/2019's; others: those plans set). `counted_at` is when its figures were last complete
    (None while a rebuild is counting them); a rule no plan uses stops being counted but keeps
    its id, so rows written under it can still be read."""

    __tablename__ = "report_period_rules"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    start_month: Mapped[int] = mapped_column(sa.SmallInteger)
    start_day: Mapped[int] = mapped_column(sa.SmallInteger)
    six_monthly_end_month: Mapped[int] = mapped_column(sa.SmallInteger)
    six_monthly_end_day: Mapped[int] = mapped_column(sa.SmallInteger)
    annual_end_month: Mapped[int] = mapped_column(sa.SmallInteger)
    annual_end_day: Mapped[int] = mapped_column(sa.SmallInteger)
    is_counted: Mapped[bool] = mapped_column()
    counted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.UniqueConstraint(
            "start_month",
            "start_day",
            "six_monthly_end_month",
            "six_monthly_end_day",
            "annual_end_month",
            "annual_end_day",
            name="uq_report_period_rules_dates",
        ),
    )


WHOLE_CASE = ""  # the category of a case's own row in case_figures (other rows: one category)


class CaseFigure(db.Model):
    """A case in one period: counted (a need identified in the period that she did not
    decline), the month of its first counted need (1-12 in the period's first year, 13-24 in
    the next: a statutory period starts in December), and the earliest service of a counted
    need (days after the need, and the date); one row for the case and one per category."""

    __tablename__ = "report_case_figures"

    # No ON DELETE CASCADE: cases are never deleted (erasure keeps the row), and a deletion
    # that removed these rows behind the counts' back would leave the counts wrong.
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), primary_key=True)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    half: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column()
    first_month: Mapped[int | None] = mapped_column(sa.SmallInteger)
    counted: Mapped[bool] = mapped_column()
    consent_ok: Mapped[bool] = mapped_column()
    best_days: Mapped[int | None] = mapped_column()
    best_served_on: Mapped[date | None] = mapped_column(sa.Date)

    __table_args__ = (
        sa.Index(
            "ix_report_case_figures_period",
            "year",
            "half",
            "category",
            "org_unit_id",
            "first_month",
            "counted",
            "consent_ok",
            "best_days",
            "best_served_on",
        ),
    )


class NeedServiceDays(db.Model):
    """A counted need of one period that a service reached: days from need to service."""

    __tablename__ = "report_need_days"

    need_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    half: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column()
    days: Mapped[int] = mapped_column()
    served_on: Mapped[date] = mapped_column(sa.Date)
    consent_ok: Mapped[bool] = mapped_column()

    __table_args__ = (
        sa.Index(
            "ix_report_need_days_period",
            "year",
            "half",
            "org_unit_id",
            "days",
            "served_on",
            "consent_ok",
        ),
    )


class ReferralFigure(db.Model):
    """A referral's clear figures (entered-in-error referrals have none): the days and half-years
    it was created and sent on (local dates), days to its answer, and what overdue needs."""

    __tablename__ = "report_referral_figures"

    referral_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column()
    status: Mapped[str] = mapped_column(sa.String(20))
    reason_code: Mapped[str | None] = mapped_column(sa.String(30))
    created_year: Mapped[int] = mapped_column(sa.SmallInteger)
    created_half: Mapped[int] = mapped_column(sa.SmallInteger)
    sent_year: Mapped[int | None] = mapped_column(sa.SmallInteger)
    sent_half: Mapped[int | None] = mapped_column(sa.SmallInteger)
    # None on rows written before statutory periods were counted (until a rebuild).
    created_on: Mapped[date | None] = mapped_column(sa.Date)
    sent_on: Mapped[date | None] = mapped_column(sa.Date)
    answer_days: Mapped[float | None] = mapped_column(sa.Float)
    respond_by: Mapped[date | None] = mapped_column(sa.Date)
    # The referral's record key (app.reports.disclosure.derived_key): overdue counts sum it.
    record_key: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")

    __table_args__ = (
        sa.Index(
            "ix_report_referral_figures_created",
            "created_year",
            "created_half",
            "org_unit_id",
            "status",
            "reason_code",
        ),
        sa.Index(
            "ix_report_referral_figures_sent",
            "sent_year",
            "sent_half",
            "org_unit_id",
            "answer_days",
        ),
        # Covering (record_key too): the overdue count is read from the index alone.
        sa.Index(
            "ix_report_referral_figures_overdue",
            "status",
            "respond_by",
            "org_unit_id",
            "record_key",
        ),
    )


class RecordKey(db.Model):
    """A case's record key for the cell-key method (app.reports.disclosure): drawn once, when
    the case is first counted, and kept for the life of the case (a rebuild of the figures
    keeps it), so the same people always give the same published figures."""

    __tablename__ = "report_record_keys"

    case_id: Mapped[int] = mapped_column(
        sa.ForeignKey("cases.id"), primary_key=True, autoincrement=False
    )
    record_key: Mapped[int] = mapped_column(sa.BigInteger)


# Counts of the rows above, summed over every dimension the reports group or filter by (kept
# with them by app.reports.figures), so that a dashboard reads a few thousand rows whatever the
# number of cases. `n` may be 0 once the rows it counted are gone. `ksum` is the sum of the record
# keys of the rows counted (app.reports.disclosure): the cell key of any sum of count rows.


class _CaseCountColumns:
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    half: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    first_month: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    counted: Mapped[bool] = mapped_column(primary_key=True)
    consent_ok: Mapped[bool] = mapped_column(primary_key=True)
    served_30: Mapped[bool] = mapped_column(primary_key=True)
    served_60: Mapped[bool] = mapped_column(primary_key=True)
    served_90: Mapped[bool] = mapped_column(primary_key=True)
    served_in_period: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column()
    ksum: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")


class CaseCount(_CaseCountColumns, db.Model):
    """CaseFigure rows per period, category, unit and month of the first counted need (0 when
    none, and on the rows of one category), with the window each was served in (within 30, 60,
    90 days of the need, or by the end of the period)."""

    __tablename__ = "report_case_counts"


class _NeedDayCountColumns:
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    half: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    days: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    served_in_period: Mapped[bool] = mapped_column(primary_key=True)
    consent_ok: Mapped[bool] = mapped_column(primary_key=True)
    n: Mapped[int] = mapped_column()


class NeedDayCount(_NeedDayCountColumns, db.Model):
    """NeedServiceDays rows per period, unit and number of days."""

    __tablename__ = "report_need_day_counts"


class _ReferralCountColumns:
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    half: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    reason_code: Mapped[str] = mapped_column(sa.String(30), primary_key=True)
    n: Mapped[int] = mapped_column()
    ksum: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")


class ReferralCount(_ReferralCountColumns, db.Model):
    """Referrals per half-year or statutory period created in (a calendar year is its halves),
    unit, status and reason ('' for none)."""

    __tablename__ = "report_referral_counts"


class _ReferralAnswerCountColumns:
    year: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    half: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    answered: Mapped[bool] = mapped_column(primary_key=True)
    answer_day: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column()
    ksum: Mapped[int] = mapped_column(sa.BigInteger, server_default="0")


class ReferralAnswerCount(_ReferralAnswerCountColumns, db.Model):
    """Referrals per half-year or statutory period sent in and unit, by whether and after how
    many days (rounded up; 0 when unanswered) the partner answered."""

    __tablename__ = "report_referral_answer_counts"


# The same counts summed per province (org_unit_id is the province's; app.reports.figures keeps
# them with the counts, in the same statements' transaction): a national report's rows are the
# 34 provinces, and read from the units' counts they were the sum of 3,300 units' rows per
# request (a second and more at a million cases).


class ProvinceCaseCount(_CaseCountColumns, db.Model):
    __tablename__ = "report_province_case_counts"


class ProvinceNeedDayCount(_NeedDayCountColumns, db.Model):
    __tablename__ = "report_province_need_day_counts"


class ProvinceReferralCount(_ReferralCountColumns, db.Model):
    __tablename__ = "report_province_referral_counts"


class ProvinceReferralAnswerCount(_ReferralAnswerCountColumns, db.Model):
    __tablename__ = "report_province_referral_answer_counts"


PROVINCE_COUNTS: dict[type, type] = {
    CaseCount: ProvinceCaseCount,
    NeedDayCount: ProvinceNeedDayCount,
    ReferralCount: ProvinceReferralCount,
    ReferralAnswerCount: ProvinceReferralAnswerCount,
}
