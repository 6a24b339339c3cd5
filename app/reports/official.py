"""The official report (báo cáo) a commune or province sends upward, as an administrative
document under Decree 30/2020/NĐ-CP, over the statutory periods of Decree 09/2019/NĐ-CP.

Layout (Decree 30, Appendix I): the issuing body over its parent at top left, the national
name (Quốc hiệu) and motto (Tiêu ngữ) at top right; "Số: …/BC-…" under the body; place and
date under the motto; the title; the body; "Nơi nhận" at bottom left and the signer's title
and name at bottom right.

Periods: Decree 09/2019 fixes the data cut-off of periodic reports: the six-monthly report
counts from 15 December of the year before to 14 June, the annual one from 15 December to
14 December. A plan may set other cut-offs (`OfficialReportRule`, on the plan's admin page).
The figures tables count these periods themselves (app.reports.periods), so the document's
figures, this period's and the same period of the previous year, are over exactly the period
it names. A report made before its period ends says up to which day its figures go; one whose
plan's cut-offs have just changed says its figures are being recomputed (`FiguresPending`)
rather than print part of them.

Every figure comes from the disclosure layer of app/reports (counts protected as a supervisor
sees them), through `official_figures` alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask_babel import gettext as _

from app.orgs.models import OrgLevel, OrgUnit
from app.reports import disclosure, indicators, layout, periods
from app.reports.models import Plan
from app.reports.official_models import DEFAULT_RULE, OfficialReportRule, RuleDates
from app.reports.periods import Period, statutory_period

KINDS = periods.REPORT_KINDS


class FiguresPending(Exception):
    """The figures of the plan's periods are still being counted (its cut-offs just changed)."""

    def __init__(self, period: Period):
        super().__init__(f"figures of {period} are being recomputed")
        self.period = period


def rule_for(plan: Plan | None) -> RuleDates:
    if plan is None:
        return DEFAULT_RULE
    rule = OfficialReportRule.of_plan(plan.id)
    return rule.dates if rule is not None else DEFAULT_RULE


def plan_choices(unit: OrgUnit, kind: str, year: int) -> list[Plan]:
    """The plans a report of `kind` for `year` may follow (nearest unit first), found over the
    Decree 09 period: which plan it follows decides its cut-offs."""
    return layout.applicable_plans(unit, statutory_period(kind, year))


def data_until(period: Period, today: date) -> date | None:
    """The last day counted when the report is made before its period ends, else None."""
    if today > period.end:
        return None
    return max(today - timedelta(days=1), period.start)


@dataclass
class TargetLine:
    label: str
    target: str
    actual: str
    previous: str
    status: str


@dataclass
class Breakdown:
    label: str
    rows: list[tuple[str, str, str]]  # label, this period, same period last year


@dataclass
class OfficialReport:
    unit: OrgUnit
    kind: str
    year: int
    period: Period
    previous_period: Period
    until: date | None
    plan: Plan | None
    issuing_body: str
    parent_body: str
    number: str
    place: str
    made_on: date
    title: str
    targets: list[TargetLine]
    totals: list[tuple[str, str, str]]
    breakdowns: list[Breakdown] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    signer_title: str = ""
    signer_name: str = ""
    k: int = 5
    note: str = disclosure.NOTE


def official_figures(unit: OrgUnit, period: Period, today: date, plan: Plan | None):
    """The one place the official report reads figures: the disclosure layer, protected, over
    the statutory period itself (the figures tables count it: app.reports.periods)."""
    if not indicators.is_counted(period):
        raise FiguresPending(period)
    report = layout.build_report(
        unit,
        period,
        "period",
        protected=True,
        k=layout.suppression_k(),
        today=today,
        plan=plan,
        breakdowns=True,
    )
    disclosure.release(report)  # raises if any raw number would reach the document
    return report


def _breakdown(label: str, now_rows, before_rows, column: str) -> Breakdown:
    before = {row.key: row.cells for row in before_rows}
    lines = []
    for row in now_rows:
        if row.is_total:
            continue
        previous = before.get(row.key, {}).get(column)
        lines.append((row.label, row.cells[column].text, previous.text if previous else "—"))
    return Breakdown(label, lines)


def _targets(now, before) -> list[TargetLine]:
    lines = []
    previous_by_label = {}
    for progress in before.plans[:1]:
        previous_by_label = {t.label: t.actual_text for t in progress.targets}
    for progress in now.plans[:1]:
        for t in progress.targets:
            lines.append(
                TargetLine(
                    t.label,
                    t.target_text,
                    t.actual_text,
                    previous_by_label.get(t.label, "—"),
                    t.status,
                )
            )
    return lines


def _totals(now, before) -> list[tuple[str, str, str]]:
    out = []
    for key, header in layout.COLUMNS.items():
        cell = now.total.cells.get(key)
        if cell is None:
            continue
        old = before.total.cells.get(key)
        out.append((str(header), cell.text, old.text if old else "—"))
    return out


# The Central Women's Union sits in Hà Nội; its name already says what body it is.
CENTRAL_PLACE = "Hà Nội"


def _body(unit: OrgUnit) -> str:
    if unit.level == OrgLevel.CENTRAL:
        return unit.name
    return _("Hội Liên hiệp Phụ nữ %(unit)s", unit=unit.name)


def _reports_to(unit: OrgUnit) -> list[str]:
    """The "Nơi nhận" line of the body the report goes to; none above the central unit."""
    parent = unit.parent
    if parent is not None and parent.level == OrgLevel.CENTRAL:
        return [_("%(body)s (để báo cáo)", body=parent.name)]
    if parent is not None:
        return [_("Hội LHPN %(unit)s (để báo cáo)", unit=parent.name)]
    if unit.level == OrgLevel.CENTRAL:
        return []
    # A province at the top reports to the Central Women's Union, not in this deployment.
    return [_("Trung ương Hội LHPN Việt Nam (để báo cáo)")]


def _place(unit: OrgUnit) -> str:
    if unit.level == OrgLevel.CENTRAL:
        return CENTRAL_PLACE
    return unit.name.split(" ", 1)[-1] if unit.name else ""


def build(
    unit: OrgUnit,
    kind: str,
    year: int,
    today: date,
    plan: Plan | None = None,
    *,
    number: str = "",
    signer_title: str = "",
    signer_name: str = "",
    recipients: list[str] | None = None,
    place: str = "",
) -> OfficialReport:
    if plan is None:
        plan = next(iter(plan_choices(unit, kind, year)), None)
    rule = rule_for(plan)
    period = statutory_period(kind, year, rule)
    previous_period = statutory_period(kind, year - 1, rule)
    now = official_figures(unit, period, today, plan)
    before = official_figures(unit, previous_period, today, plan)
    parent = unit.parent
    title = (
        _("Báo cáo kết quả 6 tháng đầu năm %(year)d", year=year)
        if kind == "six_monthly"
        else _("Báo cáo kết quả năm %(year)d", year=year)
    )
    breakdowns = [
        _breakdown(
            _("Theo nhóm hỗ trợ: số người được kết nối dịch vụ"),
            now.categories,
            before.categories,
            "connected",
        ),
        _breakdown(_("Theo kết quả chuyển gửi"), now.statuses, before.statuses, "count"),
        _breakdown(_("Theo lý do kết thúc chuyển gửi"), now.reasons, before.reasons, "count"),
        _breakdown(
            _("Cán bộ được tập huấn theo đơn vị (được tập huấn/tại chức, tỷ lệ)"),
            now.training,
            before.training,
            "summary",
        ),
    ]
    return OfficialReport(
        unit=unit,
        kind=kind,
        year=year,
        period=period,
        previous_period=previous_period,
        until=data_until(period, today),
        plan=plan,
        issuing_body=_body(unit),
        parent_body=_body(parent) if parent else "",
        number=number,
        place=place or _place(unit),
        made_on=today,
        title=title,
        targets=_targets(now, before),
        totals=_totals(now, before),
        breakdowns=[b for b in breakdowns if b.rows],
        recipients=recipients or [_("Như trên"), *_reports_to(unit), _("Lưu: VT")],
        signer_title=signer_title or _("CHỦ TỊCH"),
        signer_name=signer_name,
        k=now.k,
    )
