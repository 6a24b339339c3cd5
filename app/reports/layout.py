"""Fixed report shapes: the figures of a unit's subtree laid out as tables, suppressed for
supervisors and exports (app.reports.suppression), plain for caseworkers.

The dashboard, the six-monthly and annual reports, their Excel and CSV exports and the JSON API
all read the same `Report`, so they always show the same figures.

A unit's row in its parent's report carries the same figures as the total row of the unit's own
report. So that no figure is withheld in one and printed in the other, protected tables are
built top-down from the top of the org tree to the unit shown: the marks of the unit's row one
level up are forced onto its total row (`suppression.protect(forced_total_row=...)`). Breakdowns
by category, month, status and reason add figures of other shapes; supervisors see them for
their own unit only, never for the units below it, so no two of them can be subtracted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.categories import SupportCategory, category_label
from app.extensions import db
from app.orgs.models import OrgUnit
from app.outreach import indicators as outreach
from app.outreach.queries import COMMUNE_LEVELS
from app.outreach.vocab import AUDIENCES
from app.referrals.status import REASON_LABELS, STATUS_LABELS
from app.reports import indicators as ind
from app.reports import periods
from app.reports.models import (
    DEFAULT_ANSWER_DAYS,
    DEFAULT_CONNECTED_RATE_TARGET,
    INDICATOR_LABELS,
    PERCENT_INDICATORS,
    Indicator,
    Plan,
)
from app.reports.suppression import COMPLEMENTARY, Protected, protect

# Columns of the per-unit table, in order: key -> header (Vietnamese source).
COLUMNS = {
    "cases": _l("Số người có nhu cầu hỗ trợ"),
    "connected": _l("Số người được kết nối dịch vụ"),
    "rate": _l("Tỷ lệ được kết nối dịch vụ"),
    "target": _l("Chỉ tiêu"),
    "achievement": _l("Mức đạt so với chỉ tiêu"),
    "median_days": _l("Số ngày trung vị đến khi nhận dịch vụ"),
    "declined": _l("Số người từ chối hỗ trợ"),
    "overdue": _l("Chuyển gửi quá hạn trả lời"),
    "answered": _l("Chuyển gửi được trả lời đúng hạn"),
    "communes": _l("Xã, phường có hoạt động tuyên truyền"),
    "reached": _l("Số người được tuyên truyền"),
}
PERCENT_COLUMNS = frozenset({"rate", "target", "achievement", "answered"})
BREAKDOWN_COLUMNS = {
    "cases": COLUMNS["cases"],
    "connected": COLUMNS["connected"],
    "rate": COLUMNS["rate"],
}


@dataclass
class Cell:
    """What a report prints, and the number behind it when that number is published."""

    text: str
    value: int | float | None = None
    suppressed: bool = False


@dataclass
class Row:
    key: str  # org unit code, category, "YYYY-MM", status, reason, or "total"
    label: str
    cells: dict[str, Cell] = field(default_factory=dict)
    is_total: bool = False
    unit_code: str | None = None


@dataclass
class TargetProgress:
    indicator: str
    label: str
    target: float
    target_text: str
    actual: float | None
    actual_text: str
    is_percent: bool
    status: str  # ok | warn | bad | none


@dataclass
class PlanProgress:
    plan: Plan
    targets: list[TargetProgress]


@dataclass
class Report:
    unit: OrgUnit
    period: ind.Period
    window: str
    protected: bool
    k: int
    rows: list[Row]
    plan: Plan | None
    connected_target: float
    answer_days: int
    reached: dict[str, int]
    communes: tuple[int, int]
    plans: list[PlanProgress] = field(default_factory=list)
    categories: list[Row] = field(default_factory=list)
    months: list[Row] = field(default_factory=list)
    statuses: list[Row] = field(default_factory=list)
    reasons: list[Row] = field(default_factory=list)
    has_breakdowns: bool = False
    not_connected_codes: list[str] = field(default_factory=list)
    overdue_codes: list[str] = field(default_factory=list)

    @property
    def total(self) -> Row:
        return self.rows[-1]


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def _count_cell(p: Protected, i: int, j: int) -> Cell:
    if p.is_suppressed(i, j):
        return Cell(p.display(i, j), None, True)
    return Cell(str(p.values[i][j]), p.values[i][j])


def _rate_cell(num: Cell, den: Cell) -> Cell:
    """A rate is printed only when both its parts are."""
    if num.value is None or den.value is None or not den.value:
        return Cell("—")
    rate = 100.0 * num.value / den.value
    return Cell(pct(rate), round(rate, 1))


# ------------------------------------------------------------------------------ the org tree


class Tree:
    """The units of one subtree, loaded once."""

    def __init__(self, top: OrgUnit):
        units = db.session.execute(
            sa.select(OrgUnit).where(OrgUnit.path.startswith(top.path, autoescape=True))
        ).scalars()
        self.units = {u.id: u for u in units}
        self.children: dict[int, list[OrgUnit]] = defaultdict(list)
        for u in self.units.values():
            if u.parent_id in self.units:
                self.children[u.parent_id].append(u)
        for kids in self.children.values():
            kids.sort(key=lambda u: (u.is_retired, u.name, u.code))

    def members(self, unit: OrgUnit) -> set[int]:
        return {uid for uid, u in self.units.items() if u.path.startswith(unit.path)}

    def rows(self, unit: OrgUnit, has_direct: set[int]) -> list[tuple[OrgUnit, set[int], bool]]:
        """(unit, the unit ids the row counts, is the unit itself) for each row of its report:
        each child, then the unit itself when something is recorded directly at it."""
        kids = self.children.get(unit.id, [])
        rows = [(kid, self.members(kid), False) for kid in kids]
        if not kids or unit.id in has_direct:
            rows.append((unit, {unit.id}, True))
        return rows


def _path_ids(unit: OrgUnit) -> list[int]:
    """The ids of the units from the top of the tree down to `unit`, read from its path."""
    return [int(x) for x in unit.path.strip("/").split("/") if x]


def _chain(unit: OrgUnit, protected: bool) -> list[OrgUnit]:
    """The units from the top of the tree down to `unit` (only `unit` when nothing is withheld)."""
    if not protected:
        return [unit]
    ids = _path_ids(unit)
    found = {
        u.id: u for u in db.session.execute(sa.select(OrgUnit).where(OrgUnit.id.in_(ids))).scalars()
    }
    return [found[i] for i in ids if i in found] or [unit]


def _protect_chain(tree, chain, has_direct, vectors: dict[int, list[int]], width: int, k: int):
    """Protect the table of the last unit of `chain`, forcing each level's marks downwards."""
    forced = None
    for depth, unit in enumerate(chain):
        rows = tree.rows(unit, has_direct)
        table = [
            [sum(vectors.get(uid, [0] * width)[j] for uid in members) for j in range(width)]
            for _unit, members, _own in rows
        ]
        protected = protect(table, k, forced)
        if depth + 1 < len(chain):
            nxt = chain[depth + 1]
            index = next(i for i, (u, _, own) in enumerate(rows) if u.id == nxt.id and not own)
            forced = protected.marks[index]
    return rows, protected


# ------------------------------------------------------------------------------ plans


def applicable_plans(unit: OrgUnit, period: ind.Period) -> list[Plan]:
    """Plans of the unit or of a unit above it whose period overlaps; nearest unit first."""
    ancestor_ids = _path_ids(unit)
    plans = list(
        db.session.execute(
            sa.select(Plan).where(
                Plan.org_unit_id.in_(ancestor_ids),
                Plan.period_start <= period.end,
                Plan.period_end >= period.start,
            )
        ).scalars()
    )
    depth = {uid: n for n, uid in enumerate(ancestor_ids)}
    return sorted(plans, key=lambda p: (-depth[p.org_unit_id], -p.period_start.toordinal(), p.id))


def progress_status(actual: float | None, target: float) -> str:
    """Green at or above target, amber within 10% of it, red below."""
    if actual is None or target <= 0:
        return "none"
    ratio = actual / target
    if ratio >= 1:
        return "ok"
    if ratio >= 0.9:
        return "warn"
    return "bad"


def _number(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def _plan_progress(plan: Plan, report: Report, answered_for) -> PlanProgress:
    out = []
    for target in plan.targets:
        indicator = Indicator(target.indicator)
        value = float(target.value)
        label = str(INDICATOR_LABELS[indicator])
        actual: float | None = None
        actual_text = "—"
        if indicator is Indicator.CONNECTED_RATE:
            actual = report.total.cells["rate"].value
            actual_text = report.total.cells["rate"].text
        elif indicator is Indicator.COMMUNES_WITH_OUTREACH:
            covered, total = report.communes
            if total:
                actual = round(100.0 * covered / total, 1)
                actual_text = f"{pct(actual)} ({covered}/{total})"
        elif indicator is Indicator.PEOPLE_REACHED:
            if target.audience:
                label = f"{label}: {AUDIENCES.get(target.audience, target.audience)}"
                actual = float(report.reached.get(target.audience, 0))
            else:
                actual = float(sum(report.reached.values()))
            actual_text = _number(actual)
        elif indicator is Indicator.REFERRALS_ANSWERED:
            days = target.days or DEFAULT_ANSWER_DAYS
            label = _("%(label)s (trong %(days)d ngày)", label=label, days=days)
            actual = answered_for(days)
            actual_text = pct(actual)
        elif indicator is Indicator.STAFF_TRAINED:
            actual_text = _("Chưa có số liệu")
        is_percent = indicator in PERCENT_INDICATORS
        out.append(
            TargetProgress(
                indicator=indicator.value,
                label=label,
                target=value,
                target_text=pct(value) if is_percent else _number(value),
                actual=actual,
                actual_text=actual_text,
                is_percent=is_percent,
                status=progress_status(actual, value),
            )
        )
    return PlanProgress(plan, out)


# ------------------------------------------------------------------------------ the report


def build_report(
    unit: OrgUnit,
    period: ind.Period,
    window: str,
    *,
    protected: bool,
    k: int,
    today: date,
    plan: Plan | None = None,
    breakdowns: bool = True,
    with_cases: bool = False,
) -> Report:
    """Every figure of `unit`'s subtree for `period`; withheld as needed when `protected`."""
    kk = k if protected else 0
    plans = applicable_plans(unit, period)
    plan = plan or (plans[0] if plans else None)
    target_row = plan.target_for(Indicator.CONNECTED_RATE) if plan else None
    connected_target = float(target_row.value if target_row else DEFAULT_CONNECTED_RATE_TARGET)
    answered_row = plan.target_for(Indicator.REFERRALS_ANSWERED) if plan else None
    answer_days = (answered_row.days if answered_row else None) or DEFAULT_ANSWER_DAYS

    chain = _chain(unit, protected)
    top = chain[0]
    tree = Tree(top)
    mine = tree.members(unit)

    cases = ind.case_figures(top, period, window)
    connected: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    month_counts: dict[tuple[int, int], ind.Counts] = defaultdict(ind.Counts)
    for (uid, y, m), counts in cases.by_unit_month.items():
        connected[uid][0] += counts.connected
        connected[uid][1] += counts.not_connected
        if uid in mine:
            month_counts[(y, m)].add(counts)
    declined = {uid: [n] for uid, n in cases.declined.items()}
    referrals = ind.referral_figures(top, period, today, answer_days)
    overdue = {uid: [n] for uid, n in referrals.overdue.items()}
    answered = {
        uid: [referrals.answered.get(uid, 0), n - referrals.answered.get(uid, 0)]
        for uid, n in referrals.sent.items()
    }

    has_direct = {
        uid
        for vectors in (connected, declined, overdue, answered)
        for uid, vector in vectors.items()
        if any(vector)
    }
    rows_def, connected_t = _protect_chain(tree, chain, has_direct, connected, 2, kk)
    # Days to service per report row (the last group: units of the subtree in no row).
    groups = dict.fromkeys(mine, len(rows_def))
    for i, (_u, members, _own) in enumerate(rows_def):
        groups.update(dict.fromkeys(members, i))
    days_by_row = ind.service_days(unit, period, window, groups)
    _r, declined_t = _protect_chain(tree, chain, has_direct, declined, 1, kk)
    _r, overdue_t = _protect_chain(tree, chain, has_direct, overdue, 1, kk)
    _r, answered_t = _protect_chain(tree, chain, has_direct, answered, 2, kk)

    activities = outreach.by_unit(top, period.start, period.end)
    reached = _reached(activities, mine)
    communes_total = _communes_covered(tree, activities, mine)
    labels = [(u, members, own) for u, members, own in rows_def] + [(None, mine, False)]
    rows = []
    for i, (row_unit, members, own) in enumerate(labels):
        cells: dict[str, Cell] = {}
        cells["cases"] = _count_cell(connected_t, i, 2)
        cells["connected"] = _count_cell(connected_t, i, 0)
        cells["rate"] = rate = _rate_cell(cells["connected"], cells["cases"])
        cells["target"] = Cell(pct(connected_target), connected_target)
        if rate.value is None or not connected_target:
            cells["achievement"] = Cell("—")
        else:
            achievement = round(100.0 * rate.value / connected_target, 1)
            cells["achievement"] = Cell(pct(achievement), achievement)
        if row_unit is None:
            row_days: Counter[int] = Counter()
            for hist in days_by_row.values():
                row_days.update(hist)
        else:
            row_days = days_by_row.get(i, Counter())
        median = ind.median_days(row_days)
        if cells["connected"].value is not None and median is not None and row_days.total() >= kk:
            cells["median_days"] = Cell(f"{median:.0f}", round(median, 1))
        else:
            cells["median_days"] = Cell("—")
        cells["declined"] = _count_cell(declined_t, i, 1)
        cells["overdue"] = _count_cell(overdue_t, i, 1)
        cells["answered"] = _rate_cell(_count_cell(answered_t, i, 0), _count_cell(answered_t, i, 2))
        covered, total = _communes_covered(tree, activities, members)
        people = sum(_reached(activities, members).values())
        cells["communes"] = (
            Cell(f"{covered}/{total}", round(100.0 * covered / total, 1)) if total else Cell("—")
        )
        cells["reached"] = Cell(_number(people), people)
        if row_unit is None:
            rows.append(Row("total", _("Tổng cộng"), cells, is_total=True))
        else:
            label = row_unit.name + (f" ({_('trực thuộc')})" if own and len(labels) > 2 else "")
            rows.append(Row(row_unit.code, label, cells, unit_code=row_unit.code))

    report = Report(
        unit=unit,
        period=period,
        window=window,
        protected=protected,
        k=k,
        rows=rows,
        plan=plan,
        connected_target=connected_target,
        answer_days=answer_days,
        reached=reached,
        communes=communes_total,
    )
    if breakdowns:
        total_withheld = any(connected_t.marks[-1])
        by_category: dict[str, ind.Counts] = defaultdict(ind.Counts)
        for uid, cats in cases.categories.items():
            if uid in mine:
                for code, counts in cats.items():
                    by_category[code].add(counts)
        report.categories = _pair_rows(
            [(c.value, category_label(c), by_category.get(c.value)) for c in SupportCategory], kk
        )
        report.months = _pair_rows(_month_defs(period, month_counts), kk, withhold=total_withheld)
        report.statuses = _single_rows(_mine(referrals.statuses, mine), STATUS_LABELS, kk)
        report.reasons = _single_rows(_mine(referrals.reasons, mine), REASON_LABELS, kk)
        report.has_breakdowns = True

    def answered_for(days: int) -> float | None:
        if days == answer_days:
            figures = referrals
        else:
            figures = ind.referral_figures(unit, period, today, days)
        sent = sum(n for uid, n in figures.sent.items() if uid in mine)
        done = sum(n for uid, n in figures.answered.items() if uid in mine)
        if protected and any(1 <= v < k for v in (sent, done, sent - done)):
            return None
        return round(100.0 * done / sent, 1) if sent else None

    report.plans = [_plan_progress(p, report, answered_for) for p in plans]
    if with_cases and not protected:
        report.not_connected_codes = ind.not_connected_cases(unit, period, window)
        report.overdue_codes = ind.overdue_case_codes(unit, today)
    return report


def suppression_k() -> int:
    """Disclosure control's k (config SUPPRESSION_K): protected counts below it are withheld."""
    return int(current_app.config.get("SUPPRESSION_K", 5))


def upward_report(
    unit: OrgUnit, kind: str, year: int, today: date, plan: Plan | None = None
) -> Report:
    """A six-monthly or annual report, as pages, files and the API give it."""
    # Reports sent upward are always made of protected counts, whoever makes them.
    return build_report(
        unit,
        periods.report_period(kind, year),
        "period",
        protected=True,
        k=suppression_k(),
        today=today,
        plan=plan,
        breakdowns=False,
    )


def _mine(store: dict[tuple[int, str], int], mine: set[int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for (uid, code), n in store.items():
        if uid in mine:
            out[code] = out.get(code, 0) + n
    return out


def _reached(activities: dict[int, outreach.UnitOutreach], members: set[int]) -> dict[str, int]:
    """Audience code -> people reached by the activities of these units."""
    out = dict.fromkeys(AUDIENCES, 0)
    for uid in members & activities.keys():
        for code, people in activities[uid].reached.items():
            out[code] += people
    return out


def _communes_covered(tree: Tree, activities, members: set[int]) -> tuple[int, int]:
    """(communes/wards among these units with an activity, communes/wards among them), retired
    ones left out."""
    communes = [
        uid
        for uid in members
        if tree.units[uid].level in COMMUNE_LEVELS and not tree.units[uid].is_retired
    ]
    return sum(1 for uid in communes if uid in activities), len(communes)


def _month_defs(period: ind.Period, counts: dict[tuple[int, int], ind.Counts]):
    out = []
    y, m = period.start.year, period.start.month
    while (y, m) <= (period.end.year, period.end.month):
        out.append((f"{y:04d}-{m:02d}", f"{m:02d}/{y:04d}", counts.get((y, m))))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _pair_rows(defs, k: int, withhold: bool = False) -> list[Row]:
    """Rows of (cases, connected, rate) from [(key, label, Counts | None)], protected."""
    table = [[c.connected if c else 0, c.not_connected if c else 0] for _key, _label, c in defs]
    p = protect(table, k)
    if withhold and k:
        for i in range(p.rows):
            for j in range(p.cols):
                if p.values[i][j]:
                    p.marks[i][j] = p.marks[i][j] or COMPLEMENTARY
    rows = []
    for i, (key, label, _counts) in enumerate(defs):
        cells = {"cases": _count_cell(p, i, 2), "connected": _count_cell(p, i, 0)}
        cells["rate"] = _rate_cell(cells["connected"], cells["cases"])
        rows.append(Row(key, str(label), cells))
    return rows


def _single_rows(counts: dict[str, int], labels: dict, k: int) -> list[Row]:
    """One row per code of `labels` (fixed shape) and a total, protected as one column."""
    keys = [str(code) for code in labels if str(code) != ind.EXCLUDED_STATUS]
    p = protect([[counts.get(key, 0)] for key in keys], k)
    rows = [
        Row(key, str(labels[key]), {"count": _count_cell(p, i, 0)}) for i, key in enumerate(keys)
    ]
    rows.append(Row("total", _("Tổng cộng"), {"count": _count_cell(p, len(keys), 0)}, True))
    return rows
