"""The plans' indicators, counted in SQL over clear, non-identifying columns; nothing is decrypted.

Definitions (DESIGN.md, "The headline indicator"), for an org unit subtree and a period:

- a *counted need* is a need of a case in the subtree, identified in the period, that the client
  did not decline (status other than "declined");
- the *denominator* is the number of cases with at least one counted need;
- a counted need is *connected* when one of its referrals reached `completed` with outcome
  `service_received` or `enrolled`, with the service date no later than the window allows
  (30, 60 or 90 days after the need was identified, or the end of the period), and the case's
  consent to record is still in force;
- the *numerator* is the number of denominator cases with at least one connected need.

Cases whose every need identified in the period was declined are counted apart ("declined").
Erased cases keep their rows (erased_at set) and count like any other. Referrals marked
`entered-in-error` are excluded from every figure.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.cases.models import Case, Consent, Need
from app.extensions import db
from app.orgs.models import OrgUnit
from app.referrals.models import Referral

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOWS = ("30", "60", "90", "period")
DEFAULT_WINDOW = "90"
CONNECTED_OUTCOMES = ("service_received", "enrolled")
EXCLUDED_STATUS = "entered-in-error"
DECLINED_NEED = "declined"


class days_between(FunctionElement):  # noqa: N801  (an SQL function name)
    """Days from `earlier` to `later` (dates or timestamps), fractional for timestamps."""

    inherit_cache = True
    type = sa.Float()


@compiles(days_between, "sqlite")
def _days_between_sqlite(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"(julianday({compiler.process(later, **kw)}) - "
        f"julianday({compiler.process(earlier, **kw)}))"
    )


@compiles(days_between, "postgresql")
def _days_between_pg(element, compiler, **kw):
    later, earlier = list(element.clauses)
    return (
        f"(EXTRACT(EPOCH FROM (CAST({compiler.process(later, **kw)} AS TIMESTAMP) - "
        f"CAST({compiler.process(earlier, **kw)} AS TIMESTAMP))) / 86400.0)"
    )


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        """The first instant of the period, local days, in UTC."""
        return datetime.combine(self.start, time.min, LOCAL_TZ).astimezone(UTC)

    @property
    def end_at(self) -> datetime:
        """The first instant after the period, in UTC."""
        return datetime.combine(self.end + timedelta(days=1), time.min, LOCAL_TZ).astimezone(UTC)


@dataclass
class Counts:
    """Cases counted for the connected rate: the denominator and the connected among them."""

    cases: int = 0
    connected: int = 0

    def add(self, other: Counts) -> None:
        self.cases += other.cases
        self.connected += other.connected

    @property
    def not_connected(self) -> int:
        return self.cases - self.connected

    @property
    def rate(self) -> float | None:
        return 100.0 * self.connected / self.cases if self.cases else None


@dataclass
class UnitFigures:
    """One row of a report: a child unit (or the unit itself for cases recorded at it)."""

    unit_id: int
    counts: Counts = field(default_factory=Counts)
    declined: int = 0
    overdue: int = 0
    sent: int = 0
    answered: int = 0
    days_to_service: list[float] = field(default_factory=list)

    @property
    def median_days(self) -> float | None:
        return statistics.median(self.days_to_service) if self.days_to_service else None


def subtree_ids(unit: OrgUnit):
    return sa.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))


def row_units(unit: OrgUnit) -> tuple[list[OrgUnit], dict[int, int]]:
    """The rows of a report on `unit`: its child units (and the unit itself when it has cases
    recorded directly at it), and a map from every unit id of the subtree to its row."""
    units = list(
        db.session.execute(
            sa.select(OrgUnit).where(OrgUnit.path.startswith(unit.path, autoescape=True))
        ).scalars()
    )
    children = sorted(
        (u for u in units if u.parent_id == unit.id), key=lambda u: (u.is_retired, u.name, u.code)
    )
    row_of = {unit.id: unit.id}
    for child in children:
        for u in units:
            if u.path.startswith(child.path):
                row_of[u.id] = child.id
    return children, row_of


def _window_limit(window: str, period: Period):
    """SQL condition on (referral, need): the service came within the window."""
    if window == "period":
        return Referral.completed_on <= period.end
    days = int(window)
    return days_between(Referral.completed_on, Need.identified_on) <= days


def _consent_in_force():
    return (
        sa.select(Consent.id)
        .where(
            Consent.case_id == Need.case_id,
            Consent.purpose == "record",
            Consent.withdrawn_at.is_(None),
        )
        .exists()
    )


def _connecting_referrals(window: str, period: Period):
    return sa.select(Referral.id).where(
        Referral.need_id == Need.id,
        Referral.status == "completed",
        Referral.outcome.in_(CONNECTED_OUTCOMES),
        Referral.completed_on.is_not(None),
        _window_limit(window, period),
    )


def _counted_needs(unit: OrgUnit, period: Period, window: str):
    connected = sa.and_(_connecting_referrals(window, period).exists(), _consent_in_force())
    return (
        sa.select(
            Need.id.label("need_id"),
            Need.case_id.label("case_id"),
            Need.category.label("category"),
            Need.identified_on.label("identified_on"),
            Case.org_unit_id.label("org_unit_id"),
            sa.case((connected, 1), else_=0).label("conn"),
        )
        .join(Case, Case.id == Need.case_id)
        .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
        .where(
            OrgUnit.path.startswith(unit.path, autoescape=True),
            Need.identified_on >= period.start,
            Need.identified_on <= period.end,
            Need.status != DECLINED_NEED,
        )
    )


def connected_by_unit_and_month(
    unit: OrgUnit, period: Period, window: str
) -> dict[tuple[int, int, int], Counts]:
    """(org unit id, year, month of the case's first counted need) -> Counts."""
    needs = _counted_needs(unit, period, window).subquery()
    cases = (
        sa.select(
            needs.c.case_id,
            needs.c.org_unit_id,
            sa.func.min(needs.c.identified_on).label("first_on"),
            sa.func.max(needs.c.conn).label("conn"),
        )
        .group_by(needs.c.case_id, needs.c.org_unit_id)
        .subquery()
    )
    year = sa.extract("year", cases.c.first_on)
    month = sa.extract("month", cases.c.first_on)
    stmt = sa.select(
        cases.c.org_unit_id, year, month, sa.func.count(), sa.func.sum(cases.c.conn)
    ).group_by(cases.c.org_unit_id, year, month)
    return {
        (int(u), int(y), int(m)): Counts(int(n), int(c or 0))
        for u, y, m, n, c in db.session.execute(stmt)
    }


def connected_by_category(unit: OrgUnit, period: Period, window: str) -> dict[str, Counts]:
    """Support category -> Counts (a case counts once per category it has a counted need in)."""
    needs = _counted_needs(unit, period, window).subquery()
    per_case = (
        sa.select(needs.c.category, needs.c.case_id, sa.func.max(needs.c.conn).label("conn"))
        .group_by(needs.c.category, needs.c.case_id)
        .subquery()
    )
    stmt = sa.select(
        per_case.c.category, sa.func.count(), sa.func.sum(per_case.c.conn)
    ).group_by(per_case.c.category)
    return {cat: Counts(int(n), int(c or 0)) for cat, n, c in db.session.execute(stmt)}


def days_to_service(unit: OrgUnit, period: Period, window: str) -> list[tuple[int, float]]:
    """(org unit id, days from need identified to first service) for every connected need."""
    first = (
        sa.select(
            Need.id.label("need_id"),
            Case.org_unit_id.label("org_unit_id"),
            sa.func.min(days_between(Referral.completed_on, Need.identified_on)).label("days"),
        )
        .join(Case, Case.id == Need.case_id)
        .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
        .join(Referral, Referral.need_id == Need.id)
        .where(
            OrgUnit.path.startswith(unit.path, autoescape=True),
            Need.identified_on >= period.start,
            Need.identified_on <= period.end,
            Need.status != DECLINED_NEED,
            Referral.status == "completed",
            Referral.outcome.in_(CONNECTED_OUTCOMES),
            Referral.completed_on.is_not(None),
            _window_limit(window, period),
            _consent_in_force(),
        )
        .group_by(Need.id, Case.org_unit_id)
    )
    return [(int(u), max(0.0, float(d))) for _, u, d in db.session.execute(first)]


def declined_by_unit(unit: OrgUnit, period: Period) -> dict[int, int]:
    """Org unit id -> cases whose every need identified in the period was declined."""
    stmt = (
        sa.select(Case.org_unit_id, sa.func.count(sa.distinct(Case.id)))
        .join(Need, Need.case_id == Case.id)
        .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
        .where(
            OrgUnit.path.startswith(unit.path, autoescape=True),
            Need.identified_on >= period.start,
            Need.identified_on <= period.end,
        )
        .group_by(Case.id, Case.org_unit_id)
        .having(sa.func.min(sa.case((Need.status == DECLINED_NEED, 1), else_=0)) == 1)
    )
    per_case = stmt.with_only_columns(Case.org_unit_id).subquery()
    totals = sa.select(per_case.c.org_unit_id, sa.func.count()).group_by(per_case.c.org_unit_id)
    return {int(u): int(n) for u, n in db.session.execute(totals)}


def _scoped_referrals(unit: OrgUnit):
    return (
        sa.select(Referral)
        .join(Case, Case.id == Referral.case_id)
        .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
        .where(
            OrgUnit.path.startswith(unit.path, autoescape=True),
            Referral.status != EXCLUDED_STATUS,
        )
    )


def overdue_by_unit(unit: OrgUnit, today: date) -> dict[int, int]:
    """Org unit id -> referrals sent and still waiting for an answer after respond_by."""
    stmt = (
        _scoped_referrals(unit)
        .with_only_columns(Case.org_unit_id, sa.func.count())
        .where(
            Referral.status == "requested",
            Referral.respond_by.is_not(None),
            Referral.respond_by < today,
        )
        .group_by(Case.org_unit_id)
    )
    return {int(u): int(n) for u, n in db.session.execute(stmt)}


def answered_by_unit(unit: OrgUnit, period: Period, days: int) -> dict[int, tuple[int, int]]:
    """Org unit id -> (referrals sent in the period, answered within `days` days of sending)."""
    answered = sa.case(
        (
            sa.and_(
                Referral.responded_at.is_not(None),
                days_between(Referral.responded_at, Referral.sent_at) <= days,
            ),
            1,
        ),
        else_=0,
    )
    stmt = (
        _scoped_referrals(unit)
        .with_only_columns(Case.org_unit_id, sa.func.count(), sa.func.sum(answered))
        .where(
            Referral.sent_at.is_not(None),
            Referral.sent_at >= period.start_at,
            Referral.sent_at < period.end_at,
        )
        .group_by(Case.org_unit_id)
    )
    return {int(u): (int(n), int(a or 0)) for u, n, a in db.session.execute(stmt)}


def referrals_by_status(unit: OrgUnit, period: Period) -> dict[str, int]:
    """Status -> referrals created in the period (entered-in-error excluded)."""
    stmt = (
        _scoped_referrals(unit)
        .with_only_columns(Referral.status, sa.func.count())
        .where(Referral.created_at >= period.start_at, Referral.created_at < period.end_at)
        .group_by(Referral.status)
    )
    return {s: int(n) for s, n in db.session.execute(stmt)}


def referrals_by_reason(unit: OrgUnit, period: Period) -> dict[str, int]:
    """Reason code -> referrals created in the period that ended with that reason."""
    stmt = (
        _scoped_referrals(unit)
        .with_only_columns(Referral.reason_code, sa.func.count())
        .where(
            Referral.created_at >= period.start_at,
            Referral.created_at < period.end_at,
            Referral.reason_code.is_not(None),
        )
        .group_by(Referral.reason_code)
    )
    return {r: int(n) for r, n in db.session.execute(stmt)}


def not_connected_cases(unit: OrgUnit, period: Period, window: str, limit: int = 50):
    """Codes of the cases counted but not yet connected (caseworkers' own follow-up list)."""
    needs = _counted_needs(unit, period, window).subquery()
    stmt = (
        sa.select(Case.code)
        .join(needs, needs.c.case_id == Case.id)
        .where(Case.erased_at.is_(None))
        .group_by(Case.id, Case.code)
        .having(sa.func.max(needs.c.conn) == 0)
        .order_by(Case.code)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def overdue_case_codes(unit: OrgUnit, today: date, limit: int = 50) -> list[str]:
    stmt = (
        _scoped_referrals(unit)
        .with_only_columns(Case.code)
        .where(
            Referral.status == "requested",
            Referral.respond_by.is_not(None),
            Referral.respond_by < today,
            Case.erased_at.is_(None),
        )
        .distinct()
        .order_by(Case.code)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())
