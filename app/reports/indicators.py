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

The counting reads the figures tables that app.reports.figures keeps per case and period (a
calendar year or one of its halves, or a statutory period: app.reports.periods), never the
encrypted columns.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa

from app.cases.models import Case, NeedStatus
from app.categories import SupportCategory
from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit
from app.referrals.models import Referral
from app.referrals.queries import overdue_condition
from app.referrals.status import ReferralStatus
from app.reports.disclosure import Tally
from app.reports.models import (
    PROVINCE_COUNTS,
    WHOLE_CASE,
    CaseCount,
    CaseFigure,
    NeedDayCount,
    ReferralAnswerCount,
    ReferralCount,
    ReferralFigure,
)
from app.reports.periods import Period, counted_periods
from app.reports.periods import fixed_period as fixed_period  # where callers long found it

WINDOWS = ("30", "60", "90", "period")
DEFAULT_WINDOW = "90"
EXCLUDED_STATUS = ReferralStatus.ENTERED_IN_ERROR.value
DECLINED_NEED = NeedStatus.DECLINED.value
CATEGORY_CODES = tuple(c.value for c in SupportCategory)


@dataclass
class Counts:
    """Cases counted for the connected rate: the denominator and the connected among them,
    with the sums of their record keys (app.reports.disclosure)."""

    cases: int = 0
    connected: int = 0
    cases_keys: int = 0
    connected_keys: int = 0

    def add(self, other: Counts) -> None:
        self.cases += other.cases
        self.connected += other.connected
        self.cases_keys += other.cases_keys
        self.connected_keys += other.connected_keys

    @property
    def cases_tally(self) -> Tally:
        return Tally(self.cases, self.cases_keys)

    @property
    def connected_tally(self) -> Tally:
        return Tally(self.connected, self.connected_keys)

    @property
    def not_connected(self) -> int:
        return self.cases - self.connected

    @property
    def rate(self) -> float | None:
        return 100.0 * self.connected / self.cases if self.cases else None


def _subtree_ids(unit: OrgUnit):
    """Ids of the org units of `unit`'s subtree (a small list, read once by the database)."""
    return sa.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))


def _counted_key(period: Period) -> tuple[int, int] | None:
    """The figures tables' key of `period` when they count it (app.reports.periods)."""
    return period.key or counted_periods(db.session.connection()).key_of(period)


def is_counted(period: Period) -> bool:
    """The figures tables hold this period complete (a statutory one whose rule is pending
    is not: app.reports.periods)."""
    return _counted_key(period) is not None


def _fixed_key(period: Period) -> tuple[int, int]:
    key = _counted_key(period)
    if key is None:
        raise ValueError(
            f"reports count a calendar year or half-year, or a counted statutory period, "
            f"not {period}"
        )
    return key


def _connected_case(window: str, period: Period):
    """A CaseFigure row is connected: counted, its earliest service within the window (days
    after the need, or by the end of the period), her consent to record in force."""
    cf = CaseFigure
    if window == "period":
        served = sa.and_(cf.best_served_on.is_not(None), cf.best_served_on <= period.end)
    else:
        served = sa.and_(cf.best_days.is_not(None), cf.best_days <= int(window))
    return sa.and_(cf.counted, cf.consent_ok, served)


@dataclass
class CaseFigures:
    """Case counts of a subtree, per org unit."""

    by_unit_month: dict[tuple[int, int, int], Counts] = field(default_factory=dict)
    declined: dict[int, int] = field(default_factory=dict)
    declined_keys: dict[int, int] = field(default_factory=dict)
    categories: dict[int, dict[str, Counts]] = field(default_factory=dict)

    def declined_tally(self, uid: int) -> Tally:
        return Tally(self.declined.get(uid, 0), self.declined_keys.get(uid, 0))


def _served(window: str, counts) -> sa.ColumnElement[bool]:
    """The count row's cases or needs were served within the window."""
    if window == "period":
        return counts.served_in_period
    if "days" in counts.__table__.c:  # need days, per unit or per province
        return counts.days <= int(window)
    return getattr(counts, f"served_{int(window)}")


def _sum_if(condition, n):
    return sa.func.sum(sa.case((condition, n), else_=0))


def case_figures(unit: OrgUnit, period: Period, window: str, by_row: bool = False) -> CaseFigures:
    """Every case count of the connected rate for `unit`'s subtree, from the counts kept by
    app.reports.figures (a few thousand rows, whatever the number of cases).

    Per org unit and month of the case's first counted need: cases counted, connected (a counted
    need served within the window while her consent to record is in force) and declined (every
    need of the period declined); per org unit and category the same two counts. With `by_row`,
    per report row instead (`_grouping`).
    """
    year, half = _fixed_key(period)
    out = CaseFigures()
    cc = _kept(CaseCount, unit, by_row)
    connected = sa.and_(cc.counted, cc.consent_ok, _served(window, cc))
    in_period = sa.and_(cc.year == year, cc.half == half)
    group, scoped, unit_of = _grouping(unit, cc.org_unit_id, by_row)
    whole = scoped(
        sa.select(
            group,
            cc.first_month,
            _sum_if(cc.counted, cc.n),
            _sum_if(connected, cc.n),
            _sum_if(sa.not_(cc.counted), cc.n),
            _sum_if(cc.counted, cc.ksum),
            _sum_if(connected, cc.ksum),
            _sum_if(sa.not_(cc.counted), cc.ksum),
        )
        .where(in_period, cc.category == WHOLE_CASE)
        .group_by(group, cc.first_month)
    )
    for key, month, n_cases, n_conn, n_declined, k_cases, k_conn, k_declined in db.session.execute(
        whole
    ):
        uid = unit_of(key)
        if n_declined:
            out.declined[uid] = out.declined.get(uid, 0) + int(n_declined)
            out.declined_keys[uid] = out.declined_keys.get(uid, 0) + int(k_declined)
        if month and n_cases:
            # Months are numbered from January of the period's first year (1-24).
            y, m = divmod(int(month) - 1, 12)
            out.by_unit_month[(uid, period.start.year + y, m + 1)] = Counts(
                int(n_cases), int(n_conn), int(k_cases), int(k_conn)
            )
    by_category = scoped(
        sa.select(
            cc.category,
            group,
            sa.func.sum(cc.n),
            _sum_if(connected, cc.n),
            sa.func.sum(cc.ksum),
            _sum_if(connected, cc.ksum),
        )
        .where(in_period, cc.category > WHOLE_CASE)
        .group_by(cc.category, group)
    )
    for category, key, n_cases, n_conn, k_cases, k_conn in db.session.execute(by_category):
        if category in CATEGORY_CODES and n_cases:
            out.categories.setdefault(unit_of(key), {})[category] = Counts(
                int(n_cases), int(n_conn), int(k_cases), int(k_conn)
            )
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


def service_days(
    unit: OrgUnit, period: Period, window: str, rows: list[tuple[OrgUnit, bool]] | None = None
) -> dict[int, Counter[int]]:
    """Days from need identified to first service of every connected need (of a case whose
    consent to record is in force), as a histogram (days -> needs) per group of org units.

    By default each unit of `unit`'s subtree is its own group. With `rows` (a report's rows:
    a unit and whether the row is that unit alone or its whole subtree), the group is the row's
    index, and len(rows) for units of the subtree in no row."""
    nd = _kept(NeedDayCount, unit, rows is not None)
    year, half = _fixed_key(period)
    if rows is not None and not rows:
        return {}
    group, scoped, unit_of = _grouping(unit, nd.org_unit_id, by_row=rows is not None)
    stmt = scoped(
        sa.select(group, nd.days, sa.func.sum(nd.n))
        .where(nd.year == year, nd.half == half, nd.consent_ok, _served(window, nd))
        .group_by(group, nd.days)
    )
    # A row is `unit` alone or a child's subtree: the group a count comes back under names it.
    index = {row_unit.id: i for i, (row_unit, _alone) in enumerate(rows or [])}
    out: dict[int, Counter[int]] = {}
    for key, days, n in db.session.execute(stmt):
        if n:
            key = unit_of(key) if rows is None else index.get(unit_of(key), len(rows))
            hist = out.get(key)
            if hist is None:
                hist = out[key] = Counter()
            hist[max(0, int(days))] += int(n)
    return out


def service_days_per_unit_summed(
    unit: OrgUnit, period: Period, window: str, rows: list[tuple[OrgUnit, Set[int]]]
) -> dict[int, Counter[int]]:
    """`service_days` of report rows (each row: its unit and the units it counts), read per
    unit and summed per row here. Where rows are units (a province's communes) the per-unit read
    comes from the counts' key alone, while grouping per row in SQL joins the tree and cuts the
    path of every count: 42 -> 23 ms for Hà Nội at a million cases. The same histograms."""
    row_of = {uid: i for i, (_unit, members) in enumerate(rows) for uid in members}
    out: dict[int, Counter[int]] = {}
    for uid, hist in service_days(unit, period, window).items():
        i = row_of.get(uid, len(rows))
        if i in out:
            out[i].update(hist)
        else:
            out[i] = hist
    return out


def _child_of(unit: OrgUnit) -> sa.ColumnElement[str]:
    """SQL: the id (as text) of the child of `unit` whose subtree holds the row's org unit, ''
    for `unit` itself: the path segment after `unit`'s own path."""
    rest = sa.func.substr(OrgUnit.path, len(unit.path) + 1)
    if db.session.get_bind().dialect.name == "postgresql":
        slash = sa.func.strpos(rest, "/")
    else:
        slash = sa.func.instr(rest, "/")
    return sa.case((slash == 0, ""), else_=sa.func.substr(rest, 1, slash - 1))


def _kept(model: type, unit: OrgUnit, by_row: bool) -> type:
    """The counts a figures query reads: a national report's rows are its provinces, whose
    counts are kept summed (app.reports.models.PROVINCE_COUNTS): 34 provinces' rows instead of
    3,300 units' (1 s of the national dashboard at 100,000 cases)."""
    if by_row and unit.level == OrgLevel.CENTRAL:
        return PROVINCE_COUNTS[model]
    return model


def _grouping(unit: OrgUnit, column, by_row: bool):
    """How a figures query of `unit`'s subtree groups: (the grouping expression, a function that
    scopes a statement to the subtree, a function from a group back to an org unit id).

    Per org unit, or with `by_row` per report row: the child of `unit` a count lies under (its
    id), or `unit` itself for what is recorded at it. A national report has 34 rows but 3,300
    units: grouped per unit, the country's figures came back as 60,000 rows to add up."""
    if not by_row or column.class_ in PROVINCE_COUNTS.values():  # rows: its provinces
        return column, lambda stmt: stmt.where(column.in_(_subtree_ids(unit))), lambda key: key
    # Scoped by id like the per-unit queries: a LIKE on the joined tree made PostgreSQL loop over
    # the tree for each of millions of counts (more than 8 s for the country at 1M cases).
    in_subtree = column.in_(_subtree_ids(unit))
    return (
        _child_of(unit),
        lambda stmt: stmt.join(OrgUnit, OrgUnit.id == column).where(in_subtree),
        lambda key: int(key) if key else unit.id,
    )


def median_days(hist: Counter[int]) -> float | None:
    """The median of a histogram of days (days -> how many needs)."""
    total = sum(hist.values())
    if not total:
        return None
    wanted = (total - 1) // 2, total // 2  # the middle element(s), counting from 0
    found: list[int] = []
    seen = 0
    for day in sorted(hist):
        seen += hist[day]
        while len(found) < 2 and seen > wanted[len(found)]:
            found.append(day)
        if len(found) == 2:
            break
    return (found[0] + found[1]) / 2


def days_to_service(unit: OrgUnit, period: Period, window: str) -> list[tuple[int, float]]:
    """(org unit id, days from need identified to first service) for every connected need."""
    return [
        (uid, float(d))
        for uid, hist in service_days(unit, period, window).items()
        for d in sorted(hist.elements())
    ]


@dataclass
class ReferralFigures:
    """Referral counts of a subtree per org unit (one scan of the referrals)."""

    overdue: dict[int, int] = field(default_factory=dict)
    sent: dict[int, int] = field(default_factory=dict)
    answered: dict[int, int] = field(default_factory=dict)
    statuses: dict[tuple[int, str], int] = field(default_factory=dict)
    reasons: dict[tuple[int, str], int] = field(default_factory=dict)
    # The sums of the record keys of each count above, by the same keys (app.reports.disclosure).
    keys: dict[str, dict] = field(
        default_factory=lambda: {
            name: {} for name in ("overdue", "sent", "answered", "statuses", "reasons")
        }
    )

    def tally(self, store: str, key) -> Tally:
        return Tally(getattr(self, store).get(key, 0), self.keys[store].get(key, 0))


def _period_halves(key: tuple[int, int]) -> tuple[int, list[int]]:
    """A calendar year's referrals are its two halves'; any other period has rows of its own."""
    year, half = key
    return year, [half] if half else [1, 2]


def referral_figures(
    unit: OrgUnit, period: Period, today: date, answer_days: int, by_row: bool = False
) -> ReferralFigures:
    """Overdue (requested, past respond_by, today), sent in the period and answered within
    `answer_days`, and those created in the period by status and by reason, per org unit, from
    the figures table (referrals entered in error are not in it: they count nowhere). A year's
    referrals are its two halves'. With `by_row`, per report row instead (`_grouping`)."""
    rf = ReferralFigure
    out = ReferralFigures()

    def bump(name, key, n, keys):
        store, key_sums = getattr(out, name), out.keys[name]
        store[key] = store.get(key, 0) + int(n)
        key_sums[key] = key_sums.get(key, 0) + int(keys or 0)

    # Per unit even for a report's rows, from the overdue index: overdue requests are few (the
    # scheduler cancels those never answered). "+ 0" keeps SQLite from reading the country's
    # figures unit by unit through another index to apply the scope (15 ms against 2).
    overdue = (
        sa.select(rf.org_unit_id, sa.func.count(), sa.func.sum(rf.record_key))
        .where(
            rf.status == "requested",
            rf.respond_by < today,
            (rf.org_unit_id + 0).in_(_subtree_ids(unit)),
        )
        .group_by(rf.org_unit_id)
    )
    for key, n, keys in db.session.execute(overdue):
        bump("overdue", key, n, keys)
    key = _counted_key(period)
    if key is None:
        return out
    year, halves = _period_halves(key)
    rc = _kept(ReferralCount, unit, by_row)
    group, scoped, unit_of = _grouping(unit, rc.org_unit_id, by_row)
    created = scoped(
        sa.select(group, rc.status, rc.reason_code, sa.func.sum(rc.n), sa.func.sum(rc.ksum))
        .where(rc.year == year, rc.half.in_(halves))
        .group_by(group, rc.status, rc.reason_code)
    )
    for key, status, reason, n, keys in db.session.execute(created):
        uid = unit_of(key)
        if n:
            bump("statuses", (uid, status), n, keys)
            if reason:
                bump("reasons", (uid, reason), n, keys)
    ac = _kept(ReferralAnswerCount, unit, by_row)
    group, scoped, unit_of = _grouping(unit, ac.org_unit_id, by_row)
    sent = scoped(
        sa.select(
            group,
            sa.func.sum(ac.n),
            _sum_if(sa.and_(ac.answered, ac.answer_day <= answer_days), ac.n),
            sa.func.sum(ac.ksum),
            _sum_if(sa.and_(ac.answered, ac.answer_day <= answer_days), ac.ksum),
        )
        .where(ac.year == year, ac.half.in_(halves))
        .group_by(group)
    )
    for key, n_sent, n_answered, k_sent, k_answered in db.session.execute(sent):
        uid = unit_of(key)
        if n_sent:
            bump("sent", uid, n_sent, k_sent)
        if n_answered:
            bump("answered", uid, n_answered, k_answered)
    return out


def _by_code(store: dict[tuple[int, str], int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for (_uid, code), n in store.items():
        out[code] = out.get(code, 0) + n
    return out


def overdue_by_unit(unit: OrgUnit, today: date) -> dict[int, int]:
    """Org unit id -> referrals sent and still waiting for an answer after respond_by."""
    return referral_figures(unit, Period(today, today), today, 0).overdue


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
    year, half = _fixed_key(period)
    cf = CaseFigure
    stmt = (
        sa.select(Case.code)
        .join(cf, cf.case_id == Case.id)
        .where(
            cf.year == year,
            cf.half == half,
            cf.category == WHOLE_CASE,
            cf.org_unit_id.in_(_subtree_ids(unit)),
            cf.counted,
            sa.not_(_connected_case(window, period)),
            Case.erased_at.is_(None),
        )
        .order_by(Case.code)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def overdue_case_codes(unit: OrgUnit, today: date, limit: int = 50) -> list[str]:
    stmt = (
        _scoped_referrals(unit)
        .with_only_columns(Case.code)
        .where(overdue_condition(today), Case.erased_at.is_(None))
        .distinct()
        .order_by(Case.code)
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())
