"""Fixed report shapes: the figures of a unit's subtree laid out as tables. Every figure is
made by app.reports.disclosure: protected (cell-key perturbation) for supervisors, the API and
every export; exact for caseworkers, who may open the cases anyway.

The dashboard, the six-monthly and annual reports, their Excel and CSV exports and the JSON API
all read the same `Report`, so they always show the same figures. Because the layer gives the
same set of people the same published value wherever it appears, a unit's row in its parent's
report and the total row of the unit's own report agree without any coordination between the
two tables, and breakdowns by category, month, status and reason can be shown at every level.
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
from app.orgs.tree_stamp import current_stamp
from app.outreach import indicators as outreach
from app.outreach.queries import COMMUNE_LEVELS
from app.outreach.vocab import AUDIENCES
from app.referrals.status import REASON_LABELS, STATUS_LABELS
from app.reports import disclosure, periods
from app.reports import indicators as ind
from app.reports.disclosure import Figure, Tally, pct
from app.reports.models import (
    DEFAULT_ANSWER_DAYS,
    DEFAULT_CONNECTED_RATE_TARGET,
    INDICATOR_LABELS,
    PERCENT_INDICATORS,
    Indicator,
    Plan,
)
from app.training import indicators as training

# The staff-trained table (app.training.indicators): one row per unit, like the unit table.
TRAINING_COLUMNS = training.COLUMNS

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
class Row:
    key: str  # org unit code, category, "YYYY-MM", status, reason, or "total"
    label: str
    cells: dict[str, Figure] = field(default_factory=dict)
    is_total: bool = False
    unit_code: str | None = None


@dataclass
class TargetProgress:
    indicator: str
    label: str
    target: float  # as the plan says (not data)
    target_text: str
    figure: Figure  # what the unit achieved, from app.reports.disclosure
    is_percent: bool
    status: str  # ok | warn | bad | none

    @property
    def actual(self) -> float | None:
        return self.figure.value

    @property
    def actual_text(self) -> str:
        return self.figure.text


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
    reached: dict[str, Figure]  # audience code -> people reached
    communes: Figure  # communes/wards with an activity (text "covered/total", value %)
    plans: list[PlanProgress] = field(default_factory=list)
    categories: list[Row] = field(default_factory=list)
    months: list[Row] = field(default_factory=list)
    statuses: list[Row] = field(default_factory=list)
    reasons: list[Row] = field(default_factory=list)
    has_breakdowns: bool = False
    training: list[Row] = field(default_factory=list)  # staff trained, per unit
    not_connected_codes: list[str] = field(default_factory=list)
    overdue_codes: list[str] = field(default_factory=list)

    @property
    def total(self) -> Row:
        return self.rows[-1]


# ------------------------------------------------------------------------------ the org tree


class Tree:
    """The units of one subtree, loaded once as plain rows with the attributes a report reads
    (id, parent_id, path, name, code, level, is_retired): ORM objects for the 3,300 units of
    the country took longer to load than the national figures."""

    def __init__(self, top: OrgUnit):
        u = OrgUnit
        # Through the connection: the ORM's row processing cost more than the query.
        units = (
            db.session.connection()
            .execute(
                sa.select(u.id, u.parent_id, u.path, u.name, u.code, u.level, u.is_retired).where(
                    u.path.startswith(top.path, autoescape=True)
                )
            )
            .all()
        )
        self.units = {u.id: u for u in units}
        self._members: dict[int, frozenset[int]] = {}
        self.live_communes = frozenset(
            u.id for u in units if u.level in COMMUNE_LEVELS and not u.is_retired
        )
        self.children: dict[int, list[OrgUnit]] = defaultdict(list)
        for u in self.units.values():
            if u.parent_id in self.units:
                self.children[u.parent_id].append(u)
        for kids in self.children.values():
            kids.sort(key=lambda u: (u.is_retired, u.name, u.code))

    @classmethod
    def of(cls, top: OrgUnit) -> Tree:
        """The tree under `top`, kept by this process between requests for as long as the org
        tree's stamp (app/orgs/tree_stamp.py) is unchanged."""
        # The stamp is read before the units: a kept tree is never older than its stamp.
        stamp = current_stamp(db.session.connection())
        kept = _KEPT_TREES.get(top.id)
        if stamp is not None and kept is not None and kept[0] == stamp:
            return kept[1]
        tree = cls(top)
        if stamp is not None:
            if len(_KEPT_TREES) >= KEPT_TREES_MAX:
                _KEPT_TREES.clear()
            _KEPT_TREES[top.id] = (stamp, tree)
        return tree

    def members(self, unit: OrgUnit) -> frozenset[int]:
        """The unit and every unit below it, walked down the tree once per unit asked (a scan
        of every unit for each row made the national report's rows cost 34 × 3,300 path
        comparisons; walking each row's subtree again for every table, 70 walks)."""
        found = self._members.get(unit.id)
        if found is None:
            below, stack = {unit.id}, [unit.id]
            while stack:
                for kid in self.children.get(stack.pop(), ()):
                    below.add(kid.id)
                    stack.append(kid.id)
            found = self._members[unit.id] = frozenset(below)
        return found

    def rows(self, unit: OrgUnit, has_direct: set[int]) -> list[tuple[OrgUnit, set[int], bool]]:
        """(unit, the unit ids the row counts, is the unit itself) for each row of its report:
        each child, then the unit itself when something is recorded directly at it."""
        kids = self.children.get(unit.id, [])
        rows = [(kid, self.members(kid), False) for kid in kids]
        if not kids or unit.id in has_direct:
            rows.append((unit, {unit.id}, True))
        return rows


# Trees kept between requests, by top unit: (the stamp they were read at, the tree). A tree is
# never changed once built (its members memo only fills in), so requests may share it.
KEPT_TREES_MAX = 64
_KEPT_TREES: dict[int, tuple[int, Tree]] = {}


# ------------------------------------------------------------------------------ plans


def applicable_plans(unit: OrgUnit, period: ind.Period) -> list[Plan]:
    """Plans of the unit or of a unit above it whose period overlaps; nearest unit first."""
    ancestor_ids = unit.path_ids
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


def _plan_progress(plan: Plan, report: Report, answered_for, trained_for) -> PlanProgress:
    out = []
    for target in plan.targets:
        indicator = Indicator(target.indicator)
        value = float(target.value)
        label = str(INDICATOR_LABELS[indicator])
        figure = disclosure.withheld()
        if indicator is Indicator.CONNECTED_RATE:
            figure = report.total.cells["rate"]
        elif indicator is Indicator.COMMUNES_WITH_OUTREACH:
            communes = report.communes
            if communes.value is not None:
                figure = disclosure.activity(
                    communes.value, f"{pct(communes.value)} ({communes.text})"
                )
        elif indicator is Indicator.PEOPLE_REACHED:
            if target.audience:
                label = f"{label}: {AUDIENCES.get(target.audience, target.audience)}"
                figure = report.reached.get(target.audience) or disclosure.activity(0)
            else:
                figure = disclosure.activity(sum(f.value or 0 for f in report.reached.values()))
        elif indicator is Indicator.REFERRALS_ANSWERED:
            days = target.days or DEFAULT_ANSWER_DAYS
            label = _("%(label)s (trong %(days)d ngày)", label=label, days=days)
            figure = answered_for(days)
        elif indicator is Indicator.STAFF_TRAINED:
            label = _("%(label)s (được tập huấn/tại chức)", label=label)
            figure = trained_for(plan)
        is_percent = indicator in PERCENT_INDICATORS
        out.append(
            TargetProgress(
                indicator=indicator.value,
                label=label,
                target=value,
                target_text=pct(value) if is_percent else disclosure.number_text(value),
                figure=figure,
                is_percent=is_percent,
                status=progress_status(figure.value, value),
            )
        )
    return PlanProgress(plan, out)


# ------------------------------------------------------------------------------ the report


def _sum_counts(items) -> ind.Counts:
    out = ind.Counts()
    for counts in items:
        out.add(counts)
    return out


def _tally_sum(referrals: ind.ReferralFigures, store: str, members: set[int], counted) -> Tally:
    return disclosure.total(referrals.tally(store, u) for u in members & counted[store])


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
    """Every figure of `unit`'s subtree for `period`, each made by app.reports.disclosure:
    protected when `protected`, exact otherwise."""
    plans = applicable_plans(unit, period)
    plan = plan or (plans[0] if plans else None)
    target_row = plan.target_for(Indicator.CONNECTED_RATE) if plan else None
    connected_target = float(target_row.value if target_row else DEFAULT_CONNECTED_RATE_TARGET)
    answered_row = plan.target_for(Indicator.REFERRALS_ANSWERED) if plan else None
    answer_days = (answered_row.days if answered_row else None) or DEFAULT_ANSWER_DAYS

    def figure(tally: Tally) -> Figure:
        return disclosure.count(tally, protected=protected, k=k)

    tree = Tree.of(unit)
    mine = tree.members(unit)
    # Where a row holds many units (the country: 34 rows, 3,300 units), the figures are summed
    # per row by the database; where rows are units (a province's communes), per unit is as
    # small and cheaper to read (no join to the tree). The sums are the same either way.
    by_row = len(mine) > 4 * (len(tree.children.get(unit.id, [])) + 1)
    cases = ind.case_figures(unit, period, window, by_row=by_row)
    by_unit: dict[int, ind.Counts] = defaultdict(ind.Counts)
    month_counts: dict[tuple[int, int], ind.Counts] = defaultdict(ind.Counts)
    for (uid, y, m), counts in cases.by_unit_month.items():
        by_unit[uid].add(counts)
        month_counts[(y, m)].add(counts)
    referrals = ind.referral_figures(unit, period, today, answer_days, by_row=by_row)
    has_direct = {uid for uid, c in by_unit.items() if c.cases}
    has_direct |= set(cases.declined) | set(referrals.overdue) | set(referrals.sent)
    rows_def = tree.rows(unit, has_direct)
    # Days to service per report row (the last group: units of the subtree in no row).
    if by_row:
        days_by_row = ind.service_days(unit, period, window, [(u, own) for u, _m, own in rows_def])
    else:
        rows_members = [(u, members) for u, members, _own in rows_def]
        days_by_row = ind.service_days_per_unit_summed(unit, period, window, rows_members)

    activities = outreach.by_unit(unit, period.start, period.end)
    reached_by_unit = {uid: sum(o.reached.values()) for uid, o in activities.items()}
    labels = [*rows_def, (None, mine, False)]
    counted = {
        store: set(getattr(referrals, store)) | set(referrals.keys[store])
        for store in ("overdue", "sent", "answered")
    }
    rows = []
    for i, (row_unit, members, own) in enumerate(labels):
        counts = _sum_counts(by_unit[uid] for uid in members if uid in by_unit)
        cells: dict[str, Figure] = {}
        cells["cases"] = figure(counts.cases_tally)
        cells["connected"] = connected = figure(counts.connected_tally)
        cells["rate"] = rate = disclosure.rate(connected, cells["cases"])
        cells["target"] = disclosure.setting(connected_target, pct(connected_target))
        cells["achievement"] = disclosure.share(rate, connected_target)
        if row_unit is None:
            row_days: Counter[int] = Counter()
            for hist in days_by_row.values():
                row_days.update(hist)
        else:
            row_days = days_by_row.get(i, Counter())
        days = ind.median_days(row_days)
        cells["median_days"] = disclosure.median(days, row_days.total(), connected, k)
        # Only the units that have a count are summed (a national row has 100 units, most
        # with nothing overdue): the same totals, without a zero tally per unit.
        cells["declined"] = figure(
            disclosure.total(cases.declined_tally(u) for u in members & cases.declined.keys())
        )
        cells["overdue"] = figure(_tally_sum(referrals, "overdue", members, counted))
        sent = figure(_tally_sum(referrals, "sent", members, counted))
        answered = figure(_tally_sum(referrals, "answered", members, counted))
        cells["answered"] = disclosure.rate(answered, sent)
        cells["communes"] = _communes_covered(tree, activities, members)
        cells["reached"] = disclosure.activity(
            sum(reached_by_unit[uid] for uid in members & reached_by_unit.keys())
        )
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
        reached={code: disclosure.activity(n) for code, n in _reached(activities, mine).items()},
        communes=rows[-1].cells["communes"],
    )
    if breakdowns:
        by_category: dict[str, ind.Counts] = defaultdict(ind.Counts)
        for cats in cases.categories.values():
            for code, counts in cats.items():
                by_category[code].add(counts)
        report.categories = _pair_rows(
            [(c.value, category_label(c), by_category.get(c.value)) for c in SupportCategory],
            figure,
        )
        report.months = _pair_rows(_month_defs(period, month_counts), figure)
        report.statuses = _single_rows(referrals, "statuses", STATUS_LABELS, figure)
        report.reasons = _single_rows(referrals, "reasons", REASON_LABELS, figure)
        report.has_breakdowns = True

    def answered_for(days: int) -> Figure:
        if days == answer_days:
            figures = referrals
        else:
            figures = ind.referral_figures(unit, period, today, days, by_row=by_row)
        sent = disclosure.total(figures.tally("sent", u) for u in figures.sent)
        done = disclosure.total(figures.tally("answered", u) for u in figures.answered)
        return disclosure.rate(figure(done), figure(sent))

    staff = training.load(unit, period.start, period.end)
    in_post = training.staff_in_post(plan, unit)
    report.training = _training_rows(tree, unit, staff, in_post)

    def trained_for(p: Plan) -> Figure:
        post = in_post if p is plan else training.staff_in_post(p, unit)
        return training.target_figure(staff, post, mine)

    report.plans = [_plan_progress(p, report, answered_for, trained_for) for p in plans]
    if with_cases and not protected:
        report.not_connected_codes = ind.not_connected_cases(unit, period, window)
        report.overdue_codes = ind.overdue_case_codes(unit, today)
    return report


def suppression_k() -> int:
    """Disclosure control's k (config SUPPRESSION_K): protected counts below it are never
    printed as themselves."""
    return int(current_app.config.get("SUPPRESSION_K", 5))


def upward_report(
    unit: OrgUnit, kind: str, year: int, today: date, plan: Plan | None = None
) -> Report:
    """A six-monthly or annual report, as pages, files and the API give it: always protected,
    whoever makes it (the official report takes its figures from here)."""
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


def _reached(activities: dict[int, outreach.UnitOutreach], members: set[int]) -> dict[str, int]:
    """Audience code -> people reached by the activities of these units."""
    out = dict.fromkeys(AUDIENCES, 0)
    for uid in members & activities.keys():
        for code, people in activities[uid].reached.items():
            out[code] += people
    return out


def _communes_covered(tree: Tree, activities, members: set[int]) -> Figure:
    """Communes/wards among these units with an activity out of those among them ("covered/
    total", the value the percentage), retired ones left out."""
    communes = members & tree.live_communes
    if not communes:
        return disclosure.withheld()
    covered = len(communes & activities.keys())
    return disclosure.activity(
        round(100.0 * covered / len(communes), 1), f"{covered}/{len(communes)}"
    )


def _training_rows(tree: Tree, unit: OrgUnit, staff, in_post: dict[int, int]) -> list[Row]:
    """The staff-trained table: a row per child (and the unit itself when its own staff were
    trained or counted in post), then the total."""
    defs = tree.rows(unit, set(staff.units) | set(in_post))
    rows = []
    for row_unit, members, own in defs:
        label = row_unit.name + (f" ({_('trực thuộc')})" if own and len(defs) > 1 else "")
        cells = training.cells(staff, in_post, members)
        rows.append(Row(row_unit.code, label, cells, unit_code=row_unit.code))
    total = training.cells(staff, in_post, tree.members(unit))
    rows.append(Row("total", _("Tổng cộng"), total, is_total=True))
    return rows


def _month_defs(period: ind.Period, counts: dict[tuple[int, int], ind.Counts]):
    out = []
    y, m = period.start.year, period.start.month
    while (y, m) <= (period.end.year, period.end.month):
        out.append((f"{y:04d}-{m:02d}", f"{m:02d}/{y:04d}", counts.get((y, m))))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def _pair_rows(defs, figure) -> list[Row]:
    """Rows of (cases, connected, rate) from [(key, label, Counts | None)]."""
    rows = []
    for key, label, counts in defs:
        counts = counts or ind.Counts()
        cells = {"cases": figure(counts.cases_tally), "connected": figure(counts.connected_tally)}
        cells["rate"] = disclosure.rate(cells["connected"], cells["cases"])
        rows.append(Row(key, str(label), cells))
    return rows


def _single_rows(referrals: ind.ReferralFigures, store: str, labels: dict, figure) -> list[Row]:
    """One row per code of `labels` (fixed shape) and a total, over the whole subtree."""
    keys = [str(code) for code in labels if str(code) != ind.EXCLUDED_STATUS]
    tallies = {key: Tally() for key in keys}
    for uid, code in getattr(referrals, store):
        if code in tallies:
            tallies[code] = tallies[code] + referrals.tally(store, (uid, code))
    rows = [Row(key, str(labels[key]), {"count": figure(tallies[key])}) for key in keys]
    total = disclosure.total(tallies.values())
    rows.append(Row("total", _("Tổng cộng"), {"count": figure(total)}, True))
    return rows
