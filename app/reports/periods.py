"""The periods reports are made for, and which of them the figures tables count.

Two families of periods:

- calendar periods: a year and its two halves. The dashboard offers these (`parse_period`):
  supervisors compare months and halves, and the disclosure tests' identities (year = first
  half + second half) are over them.
- statutory periods: the data cut-off of periodic reports under Decree 09/2019/NĐ-CP. The
  six-monthly report counts from 15 December of the year before to 14 June, the annual one from
  15 December to 14 December. A plan may set other cut-off days (`OfficialReportRule`); each
  distinct set of cut-off days is a *counted rule* (`PeriodRule`, rule 1 is Decree 09's), and
  the official report (app.reports.official) is made over its plan's rule.

How the figures tables key them, and why
----------------------------------------

The figures tables (app.reports.figures) keep, per case and period, whether she is counted
and connected, and the count tables sum those rows with the sum of the people's record keys
(app.reports.disclosure: the cell key of a published count is the key sum of exactly the
people it counts). A period is the key (year, half): half 0 is the calendar year, 1 and 2 its
halves, and `10 * rule + 1` and `10 * rule + 2` the six-monthly and annual periods of a counted
rule that end in that year (`statutory_code`). A case is written once for every period one of
her needs falls in, in the same incremental refresh as the calendar ones.

The other design, day or month buckets summed into any period, was rejected: a case is one
person in a period however many of her needs fall in it, so "people with a need in the period"
is not a sum of "people with a need in the month" (a woman with needs in January and March
would be two), and neither is her key sum: the cell key of such a sum would not be the cell key
of the same people counted once, so a statutory figure and a calendar figure over the same
women would be perturbed differently, which is what the cell-key method must never do. Counting
each statutory period as its own bucket keeps one row per person per period, so the same set of
people has the same count and key sum, hence the same published value, in a statutory table and
a calendar one. Referrals are different: each is in one creation day and one sending day, so a
calendar year is the sum of its halves (as before); statutory periods get their own rows too,
which keeps one way of reading every period.

The price is write cost: a need's day falls in 2 calendar periods and, per counted rule, in 1
or 2 statutory ones (the six-monthly period covers about half the year). With Decree 09's rule
alone the figures tables hold about 75% more rows; keeping them costs a write about 20% more
CPU (benchmarks/reports.py, "per write"), a full rebuild about 70% more. Rules no plan uses any
more stop being counted at the next rebuild (`retire_unused_rules`); a statutory period that is
a calendar one (a plan that reports on calendar halves) is read from the calendar rows.

When a plan's cut-off days change to days no counted rule has, a new rule is registered
(`register_rule`) and `app.reports.services.rebuild_figures` runs as a background job
(app.jobs) over every case: until it finishes, the rule is *pending* and the official report
says its figures are being recomputed instead of printing partial counts. A database upgraded
from before statutory periods has rule 1 pending until `flask reports rebuild-figures` runs
(the same service).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _

from app.i18n import LOCAL_TZ
from app.reports.models import PeriodRule
from app.reports.official_models import DEFAULT_RULE, RuleDates

REPORT_KINDS = ("six_monthly", "annual")
FIRST_YEAR = 2020
DECREE_09_RULE = 1  # the id of Decree 09's cut-off days among the counted rules
_STATUTORY = {"six_monthly": 1, "annual": 2}
_KEY = re.compile(r"^(\d{4})(?:-(H1|H2))?$")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @property
    def start_at(self) -> datetime:
        """The first instant of the period, local days, in UTC."""
        return datetime.combine(self.start, time.min, LOCAL_TZ).astimezone(UTC)

    @property
    def key(self) -> tuple[int, int] | None:
        """(year, 0) for a calendar year, (year, 1) or (year, 2) for its first or second half;
        None for any other span (statutory periods: `CountedPeriods.key_of`)."""
        if (self.start.month, self.start.day) not in ((1, 1), (7, 1)):
            return None
        if self.start.year != self.end.year:
            return None
        if self.start.month == 1 and (self.end.month, self.end.day) == (12, 31):
            return self.start.year, 0
        if self.start.month == 1 and (self.end.month, self.end.day) == (6, 30):
            return self.start.year, 1
        if self.start.month == 7 and (self.end.month, self.end.day) == (12, 31):
            return self.start.year, 2
        return None

    @property
    def end_at(self) -> datetime:
        """The first instant after the period, in UTC."""
        return datetime.combine(self.end + timedelta(days=1), time.min, LOCAL_TZ).astimezone(UTC)

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


def fixed_period(year: int, half: int) -> Period:
    """The calendar period of a key (the inverse of Period.key): the year for half 0, else
    that half."""
    return Period(
        date(year, 7, 1) if half == 2 else date(year, 1, 1),
        date(year, 6, 30) if half == 1 else date(year, 12, 31),
    )


def statutory_period(kind: str, year: int, rule: RuleDates = DEFAULT_RULE) -> Period:
    """The period a report of `kind` for `year` covers under `rule` (Decree 09 by default): it
    ends in `year`, and starts in the year before when its first day is in the second half."""
    start_month, start_day = rule.start
    start_year = year - 1 if start_month >= 7 else year
    end_month, end_day = rule.six_monthly_end if kind == "six_monthly" else rule.annual_end
    return Period(date(start_year, start_month, start_day), date(year, end_month, end_day))


def statutory_code(rule_id: int, kind: str) -> int:
    """The `half` of a statutory period of a counted rule in the figures tables."""
    return 10 * rule_id + _STATUTORY[kind]


def rule_problem(rule: RuleDates) -> str | None:
    """Why these cut-off days cannot make report periods (a message for the user), or None."""
    for month, day in (rule.start, rule.six_monthly_end, rule.annual_end):
        try:
            date(2001, month, day)  # not a leap year: 29/02 would vanish three years in four
        except ValueError:
            return _("Ngày %(day)02d/%(month)02d không có trong năm.", day=day, month=month)
    six, year = statutory_period("six_monthly", 2026, rule), statutory_period("annual", 2026, rule)
    if not six.start < six.end < year.end:
        return _("Kỳ 6 tháng phải kết thúc sau ngày đầu kỳ và trước ngày cuối kỳ năm.")
    if year.end >= statutory_period("annual", 2027, rule).start:
        return _("Kỳ báo cáo năm không được dài quá một năm.")
    return None


@dataclass(frozen=True)
class CountedPeriods:
    """The periods the figures tables count: the calendar ones and those of every counted rule
    (`counted`); `known` also holds retired rules, to read rows written while they counted."""

    counted: dict[int, RuleDates]
    known: dict[int, RuleDates]
    ready: frozenset[int]

    def keys_of(self, day: date, *, calendar_year: bool = True) -> list[tuple[int, int]]:
        """Every (year, half) whose period holds `day`."""
        keys = [(day.year, 0)] if calendar_year else []
        keys.append((day.year, 1 if day.month <= 6 else 2))
        for rule_id, rule in self.counted.items():
            for year in (day.year, day.year + 1):
                for kind in REPORT_KINDS:
                    period = statutory_period(kind, year, rule)
                    # A period that is a calendar one is read from the calendar rows (key_of).
                    if day in period and period.key is None:
                        keys.append((year, statutory_code(rule_id, kind)))
        return keys

    def bounds(self, year: int, half: int) -> Period:
        """The period of a key."""
        if half < 10:
            return fixed_period(year, half)
        kind = next(k for k, n in _STATUTORY.items() if n == half % 10)
        return statutory_period(kind, year, self.known[half // 10])

    def key_of(self, period: Period) -> tuple[int, int] | None:
        """The key of a counted period (a statutory one only once its rule's figures are
        complete), or None."""
        if period.key is not None:
            return period.key
        for rule_id in sorted(self.ready):
            for kind in REPORT_KINDS:
                if statutory_period(kind, period.end.year, self.counted[rule_id]) == period:
                    return period.end.year, statutory_code(rule_id, kind)
        return None


def counted_periods(conn: sa.Connection) -> CountedPeriods:
    """The periods counted now. A database without rule rows (made fresh from the models)
    counts Decree 09's from its first write."""
    rows = conn.execute(sa.select(PeriodRule.__table__)).all()
    known = {r.id: _dates(r) for r in rows}
    counted = {r.id: _dates(r) for r in rows if r.is_counted}
    ready = {r.id for r in rows if r.is_counted and r.counted_at is not None}
    if DECREE_09_RULE not in known:
        known[DECREE_09_RULE] = counted[DECREE_09_RULE] = DEFAULT_RULE
        ready.add(DECREE_09_RULE)
    return CountedPeriods(dict(sorted(counted.items())), known, frozenset(ready))


def _dates(row) -> RuleDates:
    return RuleDates(
        (row.start_month, row.start_day),
        (row.six_monthly_end_month, row.six_monthly_end_day),
        (row.annual_end_month, row.annual_end_day),
    )


def _columns(rule: RuleDates) -> dict[str, int]:
    return {
        "start_month": rule.start[0],
        "start_day": rule.start[1],
        "six_monthly_end_month": rule.six_monthly_end[0],
        "six_monthly_end_day": rule.six_monthly_end[1],
        "annual_end_month": rule.annual_end[0],
        "annual_end_day": rule.annual_end[1],
    }


def register_rule(conn: sa.Connection, rule: RuleDates) -> bool:
    """Count the periods of `rule` from now on; True when its figures must be rebuilt (a rule
    not counted until now), in which case it stays pending until the rebuild completes."""
    periods = counted_periods(conn)
    for rule_id, dates in periods.known.items():
        if dates == rule:
            if rule_id in periods.counted:
                return False
            conn.execute(
                sa.update(PeriodRule.__table__)
                .where(PeriodRule.id == rule_id)
                .values(is_counted=True, counted_at=None)
            )
            return True
    table = PeriodRule.__table__
    ids = set(conn.execute(sa.select(table.c.id)).scalars())
    rows = []
    if DECREE_09_RULE not in ids:
        # Rule 1 was implicit (a fresh database): write it down before the next id is drawn.
        rows.append({"id": DECREE_09_RULE, **_columns(DEFAULT_RULE), "counted_at": _now()})
    # Ids given here, not drawn from a sequence: rule 1 may have been written with its id.
    rows.append({"id": max(ids | {DECREE_09_RULE}) + 1, **_columns(rule), "counted_at": None})
    conn.execute(table.insert(), [{**row, "is_counted": True} for row in rows])
    return True


def pending_rules(conn: sa.Connection) -> set[int]:
    periods = counted_periods(conn)
    return set(periods.counted) - periods.ready


def mark_counted(conn: sa.Connection, rule_ids: set[int]) -> None:
    """These rules' figures are complete (a rebuild that began after they were registered has
    finished)."""
    if rule_ids:
        conn.execute(
            sa.update(PeriodRule.__table__)
            .where(PeriodRule.id.in_(sorted(rule_ids)), PeriodRule.is_counted)
            .values(counted_at=_now())
        )


def retire_unused_rules(conn: sa.Connection, used: set[RuleDates]) -> None:
    """Stop counting the rules that no plan uses (never Decree 09's). Their rows go as each
    case is next refreshed; the rule keeps its id so those rows can still be read."""
    periods = counted_periods(conn)
    unused = [
        rule_id
        for rule_id, dates in periods.counted.items()
        if rule_id != DECREE_09_RULE and dates not in used
    ]
    if unused:
        conn.execute(
            sa.update(PeriodRule.__table__)
            .where(PeriodRule.id.in_(unused))
            .values(is_counted=False, counted_at=None)
        )


def _now() -> datetime:
    return datetime.now(UTC)


# ------------------------------------------------------------------------------ calendar choices


def local_today() -> date:
    """Today in Vietnam (tests replace this to freeze the clock)."""
    return datetime.now(LOCAL_TZ).date()


def year_range(today: date) -> range:
    return range(FIRST_YEAR, today.year + 2)


def parse_period(key: str | None, today: date) -> tuple[str, Period] | None:
    """'2026' (the year), '2026-H1' or '2026-H2'; None when not one of the calendar periods
    (the dashboard's)."""
    key = key or str(today.year)
    match = _KEY.match(key)
    if not match or int(match.group(1)) not in year_range(today):
        return None
    half = {"H1": 1, "H2": 2}.get(match.group(2), 0)
    return key, fixed_period(int(match.group(1)), half)


def period_choices(today: date) -> list[tuple[str, str]]:
    out = []
    for year in reversed(year_range(today)):
        out.append((str(year), _("Năm %(year)d", year=year)))
        out.append((f"{year}-H2", _("6 tháng cuối năm %(year)d", year=year)))
        out.append((f"{year}-H1", _("6 tháng đầu năm %(year)d", year=year)))
    return out


def report_period(kind: str, year: int) -> Period:
    """The calendar period of the dashboard's six-monthly and annual reports."""
    return fixed_period(year, 1 if kind == "six_monthly" else 0)


def due_date(kind: str, year: int) -> date:
    """Six-monthly reports are due before 20 June, annual reports before 5 December."""
    return date(year, 6, 20) if kind == "six_monthly" else date(year, 12, 5)


def report_title(kind: str, year: int) -> str:
    if kind == "six_monthly":
        return _("Báo cáo 6 tháng đầu năm %(year)d", year=year)
    return _("Báo cáo năm %(year)d", year=year)
