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

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import FunctionElement

from app.cases.models import Case, Consent, Need
from app.categories import SupportCategory
from app.extensions import db
from app.orgs.models import OrgUnit
from app.referrals.models import Referral

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
WINDOWS = ("30", "60", "90", "period")
DEFAULT_WINDOW = "90"
CONNECTED_OUTCOMES = ("service_received", "enrolled")
EXCLUDED_STATUS = "entered-in-error"
DECLINED_NEED = "declined"
CATEGORY_CODES = tuple(c.value for c in SupportCategory)


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


@dataclass
class CaseFigures:
    """Case counts of a subtree, per org unit, and the days to service of its connected needs
    (one scan of the period's needs)."""

    by_unit_month: dict[tuple[int, int, int], Counts] = field(default_factory=dict)
    declined: dict[int, int] = field(default_factory=dict)
    categories: dict[int, dict[str, Counts]] = field(default_factory=dict)
    days: dict[int, list[float]] = field(default_factory=dict)


def tune_for_aggregates() -> None:
    """PostgreSQL only: for the rest of this transaction, no JIT compilation (it costs seconds
    on these one-off aggregate queries, more than they take to run) and room to sort in memory."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("SET LOCAL jit = off"))
        db.session.execute(sa.text("SET LOCAL work_mem = '32MB'"))


def _flag(condition):
    return sa.case((condition, 1), else_=0)


def _subtree_ids(unit: OrgUnit):
    """Ids of the org units of `unit`'s subtree (a small list, read once by the database)."""
    return sa.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))


def _latest_useful(window: str, period: Period) -> date:
    """No service date after this one can connect a need identified in the period."""
    if window == "period":
        return period.end
    return period.end + timedelta(days=int(window))


def _within(window: str, period: Period, done, identified_on):
    if window == "period":
        return done <= period.end
    return days_between(done, identified_on) <= int(window)


def _need_flags(unit: OrgUnit, period: Period, window: str):
    """One row per need of the subtree identified in the period, with its flags.

    The earliest connecting service date is looked up only for these needs (not for every
    completed referral), and only among the service dates that could fall in the window: a
    later one cannot connect the need, so leaving it out changes no flag."""
    needs = (
        sa.select(
            Need.id.label("need_id"),
            Need.case_id.label("case_id"),
            Case.org_unit_id.label("org_unit_id"),
            Need.category.label("category"),
            Need.identified_on.label("identified_on"),
            _flag(Need.status != DECLINED_NEED).label("counted"),
        )
        .join(Case, Case.id == Need.case_id)
        .where(
            Case.org_unit_id.in_(_subtree_ids(unit)),
            Need.identified_on >= period.start,
            Need.identified_on <= period.end,
        )
        .cte("period_needs")
    )
    first = (
        sa.select(
            Referral.need_id.label("need_id"), sa.func.min(Referral.completed_on).label("done")
        )
        .where(
            Referral.need_id.in_(sa.select(needs.c.need_id)),
            Referral.status == "completed",
            Referral.outcome.in_(CONNECTED_OUTCOMES),
            Referral.completed_on.is_not(None),
            Referral.completed_on <= _latest_useful(window, period),
        )
        .group_by(Referral.need_id)
        .cte("first_services")
    )
    conn = sa.and_(
        needs.c.counted == 1,
        first.c.done.is_not(None),
        _within(window, period, first.c.done, needs.c.identified_on),
    )
    return (
        sa.select(
            needs.c.case_id,
            needs.c.org_unit_id,
            needs.c.category,
            sa.case((needs.c.counted == 1, needs.c.identified_on), else_=None).label("counted_on"),
            needs.c.counted,
            _flag(conn).label("conn"),
            sa.case((conn, days_between(first.c.done, needs.c.identified_on)), else_=None).label(
                "days"
            ),
        )
        .select_from(needs)
        .outerjoin(first, first.c.need_id == needs.c.need_id)
        .cte("need_flags")
    )


def _record_consents(case_ids):
    """case_id of every case among `case_ids` whose consent to record is in force."""
    return (
        sa.select(Consent.case_id.label("case_id"))
        .where(
            Consent.case_id.in_(case_ids),
            Consent.purpose == "record",
            Consent.withdrawn_at.is_(None),
        )
        .group_by(Consent.case_id)
        .cte("record_consents")
    )


def case_figures(unit: OrgUnit, period: Period, window: str) -> CaseFigures:
    """Every case count of the connected rate for `unit`'s subtree, and the days to service of
    its connected needs, in one statement over one scan of the period's needs.

    Per case: counted (a need that was not declined), connected (such a need with a
    connecting referral, and consent to record in force), the month of its first counted need,
    and the same two flags per support category; then summed per org unit and month. Per org
    unit: how many connected needs (of a case whose consent to record is in force) were served
    after each number of days.
    """
    needs = _need_flags(unit, period, window)
    cases = (
        sa.select(
            needs.c.case_id,
            needs.c.org_unit_id,
            sa.func.min(needs.c.counted_on).label("first_on"),
            sa.func.max(needs.c.counted).label("counted"),
            sa.func.max(needs.c.conn).label("conn"),
        )
        .group_by(needs.c.case_id, needs.c.org_unit_id)
        .cte("period_cases")
    )
    case_categories = (
        sa.select(
            needs.c.case_id,
            needs.c.org_unit_id,
            needs.c.category,
            sa.func.max(needs.c.conn).label("conn"),
        )
        .where(needs.c.counted == 1)
        .group_by(needs.c.case_id, needs.c.org_unit_id, needs.c.category)
        .subquery("case_categories")
    )
    consents = _record_consents(sa.select(needs.c.case_id).where(needs.c.conn == 1))
    null_int = sa.cast(sa.null(), sa.Integer)
    null_text = sa.cast(sa.null(), sa.String)
    # Three shapes in one statement (part 0: cases per unit and month of the first counted
    # need; 1: connected needs per unit and days to service; 2: cases per unit and category).
    # Columns: part, unit, year, month, category, days, cases, connected, declined.
    year = sa.extract("year", cases.c.first_on)
    month = sa.extract("month", cases.c.first_on)
    by_month = (
        sa.select(
            sa.literal(0, sa.Integer).label("part"),
            cases.c.org_unit_id,
            year.label("y"),
            month.label("m"),
            null_text.label("category"),
            sa.cast(sa.null(), sa.Float).label("days"),
            sa.func.sum(cases.c.counted),
            sa.func.sum(cases.c.conn * _flag(consents.c.case_id.is_not(None))),
            sa.func.sum(1 - cases.c.counted),
        )
        .select_from(cases)
        .outerjoin(consents, consents.c.case_id == cases.c.case_id)
        .group_by(cases.c.org_unit_id, year, month)
    )
    by_days = (
        sa.select(
            sa.literal(1, sa.Integer),
            needs.c.org_unit_id,
            null_int,
            null_int,
            null_text,
            needs.c.days,
            sa.func.count(),
            null_int,
            null_int,
        )
        .select_from(needs)
        .join(consents, consents.c.case_id == needs.c.case_id)
        .where(needs.c.conn == 1)
        .group_by(needs.c.org_unit_id, needs.c.days)
    )
    by_category = (
        sa.select(
            sa.literal(2, sa.Integer),
            case_categories.c.org_unit_id,
            null_int,
            null_int,
            case_categories.c.category,
            sa.cast(sa.null(), sa.Float),
            sa.func.count(),
            sa.func.sum(case_categories.c.conn * _flag(consents.c.case_id.is_not(None))),
            null_int,
        )
        .select_from(case_categories)
        .outerjoin(consents, consents.c.case_id == case_categories.c.case_id)
        .group_by(case_categories.c.org_unit_id, case_categories.c.category)
    )
    out = CaseFigures()
    rows = db.session.execute(sa.union_all(by_month, by_days, by_category))
    for part, uid, y, m, category, days, n_cases, n_conn, n_declined in rows:
        uid = int(uid)
        if part == 1:
            out.days.setdefault(uid, []).extend([max(0.0, float(days))] * int(n_cases))
        elif part == 2:
            if category not in CATEGORY_CODES:
                continue
            counts = Counts(int(n_cases), int(n_conn or 0))
            out.categories.setdefault(uid, {})[category] = counts
        else:
            if n_declined:
                out.declined[uid] = out.declined.get(uid, 0) + int(n_declined)
            if y is not None and n_cases:
                out.by_unit_month[(uid, int(y), int(m))] = Counts(int(n_cases), int(n_conn or 0))
    return out


def connected_by_unit_and_month(
    unit: OrgUnit, period: Period, window: str
) -> dict[tuple[int, int, int], Counts]:
    """(org unit id, year, month of the case's first counted need) -> Counts."""
    return case_figures(unit, period, window).by_unit_month


def connected_by_category(unit: OrgUnit, period: Period, window: str) -> dict[str, Counts]:
    """Support category -> Counts (a case counts once per category it has a counted need in)."""
    out: dict[str, Counts] = {}
    for cats in case_figures(unit, period, window).categories.values():
        for code, counts in cats.items():
            out.setdefault(code, Counts()).add(counts)
    return out


def declined_by_unit(unit: OrgUnit, period: Period) -> dict[int, int]:
    """Org unit id -> cases whose every need identified in the period was declined."""
    return case_figures(unit, period, "period").declined


def service_days(unit: OrgUnit, period: Period, window: str) -> dict[int, list[float]]:
    """Org unit id -> days from need identified to first service, for every connected need
    (of a case whose consent to record is in force)."""
    return case_figures(unit, period, window).days


def days_to_service(unit: OrgUnit, period: Period, window: str) -> list[tuple[int, float]]:
    """(org unit id, days from need identified to first service) for every connected need."""
    return [(uid, d) for uid, days in service_days(unit, period, window).items() for d in days]


@dataclass
class ReferralFigures:
    """Referral counts of a subtree per org unit (one scan of the referrals)."""

    overdue: dict[int, int] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)
    answered: dict[int, int] = field(default_factory=dict)
    statuses: dict[tuple[int, str], int] = field(default_factory=dict)
    reasons: dict[tuple[int, str], int] = field(default_factory=dict)


def referral_figures(
    unit: OrgUnit, period: Period, today: date, answer_days: int
) -> ReferralFigures:
    """Overdue (requested, past respond_by, today), sent in the period and answered within
    `answer_days`, and those created in the period by status and by reason, per org unit.
    Referrals entered in error count nowhere."""
    created_in = sa.and_(
        Referral.created_at >= period.start_at, Referral.created_at < period.end_at
    )
    sent_in = sa.and_(
        Referral.sent_at.is_not(None),
        Referral.sent_at >= period.start_at,
        Referral.sent_at < period.end_at,
    )
    answered = sa.and_(
        sent_in,
        Referral.responded_at.is_not(None),
        days_between(Referral.responded_at, Referral.sent_at) <= answer_days,
    )
    overdue = sa.and_(
        Referral.status == "requested",
        Referral.respond_by.is_not(None),
        Referral.respond_by < today,
    )
    # The period's referrals and the overdue ones, found through their own indexes, summed per
    # org unit, status and reason (a few hundred rows back, whatever the number of referrals).
    sums = [sa.func.sum(_flag(f)) for f in (created_in, sent_in, answered, overdue)]
    stmt = (
        sa.select(Case.org_unit_id, Referral.status, Referral.reason_code, *sums)
        .select_from(Referral)
        .join(Case, Case.id == Referral.case_id)
        .where(
            Case.org_unit_id.in_(_subtree_ids(unit)),
            Referral.status != EXCLUDED_STATUS,
            sa.or_(created_in, sent_in, overdue),
        )
        .group_by(Case.org_unit_id, Referral.status, Referral.reason_code)
    )
    out = ReferralFigures()

    def bump(store, key, n):
        store[key] = store.get(key, 0) + n

    for uid, status, reason, c, s, a, o in db.session.execute(stmt):
        uid = int(uid)
        if o:
            bump(out.overdue, uid, int(o))
        if s:
            bump(out.sent, uid, int(s))
        if a:
            bump(out.answered, uid, int(a))
        if c:
            bump(out.statuses, (uid, status), int(c))
            if reason:
                bump(out.reasons, (uid, reason), int(c))
    return out


def _by_code(store: dict[tuple[int, str], int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_uid, code), n in store.items():
        out[code] = out.get(code, 0) + n
    return out


def overdue_by_unit(unit: OrgUnit, today: date) -> dict[int, int]:
    """Org unit id -> referrals sent and still waiting for an answer after respond_by."""
    return referral_figures(unit, Period(today, today), today, 0).overdue


def answered_by_unit(unit: OrgUnit, period: Period, days: int) -> dict[int, tuple[int, int]]:
    """Org unit id -> (referrals sent in the period, answered within `days` days of sending)."""
    figures = referral_figures(unit, period, period.end, days)
    return {uid: (n, figures.answered.get(uid, 0)) for uid, n in figures.sent.items()}


def referrals_by_status(unit: OrgUnit, period: Period) -> dict[str, int]:
    """Status -> referrals created in the period (entered-in-error excluded)."""
    return _by_code(referral_figures(unit, period, period.end, 0).statuses)


def referrals_by_reason(unit: OrgUnit, period: Period) -> dict[str, int]:
    """Reason code -> referrals created in the period that ended with that reason."""
    return _by_code(referral_figures(unit, period, period.end, 0).reasons)


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
