"""Domain actions of the reports module: recording plans, and recording report exports."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _

from app import jobs
from app.audit import services as audit
from app.extensions import db
from app.orgs.models import OrgUnit
from app.outreach.vocab import AUDIENCES
from app.permissions import Actor, PermissionDenied
from app.reports import periods, permissions
from app.reports.models import DEFAULT_ANSWER_DAYS, Indicator, Plan, PlanTarget
from app.reports.official_models import DEFAULT_RULE, OfficialReportRule, RuleDates

REBUILD_JOB = "app.reports.services:rebuild_figures_job"


class PlanError(ValueError):
    """A plan that cannot be saved; the message is for the user, `field` names the input."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass
class PlanData:
    org_unit: OrgUnit
    name: str
    number: str
    issuing_body: str
    period_start: date
    period_end: date
    connected_rate: Decimal
    communes_with_outreach: Decimal | None = None
    staff_trained: Decimal | None = None
    referrals_answered: Decimal | None = None
    answer_days: int | None = None
    reached: dict[str, int] | None = None  # audience code -> people
    report_rule: RuleDates = DEFAULT_RULE  # the official report's cut-off days


def _check(actor: Actor, data: PlanData) -> None:
    if not permissions.can_manage_plans(actor) or not actor.covers_path(data.org_unit.path):
        raise PermissionDenied
    if data.period_end < data.period_start:
        raise PlanError(_("Ngày kết thúc phải sau ngày bắt đầu."), "period_end")
    for code in data.reached or {}:
        if code not in AUDIENCES:
            raise PlanError(_("Nhóm đối tượng tuyên truyền không hợp lệ."))
    problem = periods.rule_problem(data.report_rule)
    if problem:
        raise PlanError(problem, "report_start")


def _targets(data: PlanData) -> list[tuple[str, str | None, Decimal, int | None]]:
    out = [(Indicator.CONNECTED_RATE.value, None, Decimal(data.connected_rate), None)]
    if data.communes_with_outreach is not None:
        out.append(
            (Indicator.COMMUNES_WITH_OUTREACH.value, None, data.communes_with_outreach, None)
        )
    if data.staff_trained is not None:
        out.append((Indicator.STAFF_TRAINED.value, None, data.staff_trained, None))
    if data.referrals_answered is not None:
        days = data.answer_days or DEFAULT_ANSWER_DAYS
        out.append((Indicator.REFERRALS_ANSWERED.value, None, data.referrals_answered, days))
    for code, people in (data.reached or {}).items():
        if people is not None:
            out.append((Indicator.PEOPLE_REACHED.value, code, Decimal(people), None))
    return out


def _apply(plan: Plan, data: PlanData) -> list[str]:
    changed = []
    for name in ("name", "number", "issuing_body", "period_start", "period_end"):
        value = getattr(data, name)
        if getattr(plan, name) != value:
            setattr(plan, name, value)
            changed.append(name)
    if plan.org_unit_id != data.org_unit.id:
        plan.org_unit_id = data.org_unit.id
        changed.append("org_unit")
    wanted = {(ind, aud): (value, days) for ind, aud, value, days in _targets(data)}
    have = {(t.indicator, t.audience): t for t in plan.targets}
    for key, target in have.items():
        if key not in wanted:
            plan.targets.remove(target)
            changed.append(f"target:{key[0]}")
    for (indicator, audience), (value, days) in wanted.items():
        target = have.get((indicator, audience))
        if target is None:
            plan.targets.append(
                PlanTarget(indicator=indicator, audience=audience, value=value, days=days)
            )
            changed.append(f"target:{indicator}")
        elif Decimal(target.value) != value or target.days != days:
            target.value, target.days = value, days
            changed.append(f"target:{indicator}")
    return sorted(set(changed))


def _apply_rule(plan: Plan, rule: RuleDates) -> dict | None:
    """Set the plan's cut-off days; when they changed, count their periods (rebuilding the
    figures in the background when no counted rule has these days: app.reports.periods) and
    return what the audit event says of it."""
    row = OfficialReportRule.of_plan(plan.id)
    if (row.dates if row else DEFAULT_RULE) == rule:
        return None
    if row is None:
        row = OfficialReportRule(plan_id=plan.id)
        db.session.add(row)
    (row.start_month, row.start_day) = rule.start
    (row.six_monthly_end_month, row.six_monthly_end_day) = rule.six_monthly_end
    (row.annual_end_month, row.annual_end_day) = rule.annual_end
    db.session.flush()
    rebuild = periods.register_rule(db.session.connection(), rule)
    if rebuild:
        jobs.enqueue(REBUILD_JOB)
    return {"report_rule": rule_text(rule), "figures_rebuild": rebuild}


def rule_text(rule: RuleDates) -> str:
    """'15/12-14/06-14/12': first day, six-monthly and annual last days."""
    return "-".join(
        f"{d:02d}/{m:02d}" for m, d in (rule.start, rule.six_monthly_end, rule.annual_end)
    )


def create_plan(actor: Actor, data: PlanData) -> Plan:
    """An admin records a plan of a unit in their subtree with its targets."""
    _check(actor, data)
    plan = Plan(
        org_unit_id=data.org_unit.id,
        name="",
        period_start=data.period_start,
        period_end=data.period_end,
    )
    db.session.add(plan)
    _apply(plan, data)
    db.session.flush()
    rule = _apply_rule(plan, data.report_rule) or {}
    audit.record(
        actor,
        "plan.created",
        plan,
        org_unit_id=data.org_unit.id,
        details={"org_unit": data.org_unit.code, "period": _period_text(plan), **rule},
    )
    return plan


def update_plan(actor: Actor, plan: Plan, data: PlanData) -> Plan:
    """An admin changes a plan of a unit in their subtree (also moving it stays in scope)."""
    if not permissions.can_manage_plans(actor) or not actor.covers_path(plan.org_unit.path):
        raise PermissionDenied
    _check(actor, data)
    changed = _apply(plan, data)
    db.session.flush()
    rule = _apply_rule(plan, data.report_rule)
    if rule:
        changed.append("report_rule")
    audit.record(
        actor,
        "plan.updated",
        plan,
        org_unit_id=data.org_unit.id,
        details={"changed_fields": changed, "org_unit": data.org_unit.code, **(rule or {})},
    )
    return plan


def _period_text(plan: Plan) -> str:
    return f"{plan.period_start.isoformat()}/{plan.period_end.isoformat()}"


def record_export(actor: Actor, unit: OrgUnit, report_name: str, period: str, fmt: str) -> str:
    """Audit an export and return the signed audit checkpoint of that moment for the file."""
    if not permissions.can_export(actor):
        raise PermissionDenied
    event = audit.record(
        actor,
        "report.exported",
        object_type="report",
        object_ref=f"{report_name}:{unit.code}:{period}",
        org_unit_id=unit.id,
        details={"report": report_name, "org_unit": unit.code, "period": period, "format": fmt},
    )
    return checkpoint_for(event)


def record_view(actor: Actor, unit: OrgUnit, report_name: str, period: str) -> None:
    audit.record(
        actor,
        "report.viewed",
        object_type="report",
        object_ref=f"{report_name}:{unit.code}:{period}",
        org_unit_id=unit.id,
        details={"report": report_name, "org_unit": unit.code, "period": period},
    )


def checkpoint_for(event) -> str:
    """The signed checkpoint of every audit shard head, `event`'s shard at `event`; also kept in
    the audit checkpoint file once the export commits."""
    return audit.checkpoint_after(event).encode()


# A rebuild step holds the shard locks of the provinces it touches until it commits: its size
# adapts so that a step lasts about REBUILD_STEP_SECONDS, whatever the machine's load.
REBUILD_STEP_SECONDS = 0.025
REBUILD_CASES = 4  # cases in the first step; then between 1 and REBUILD_MAX_CASES
REBUILD_MAX_CASES = 2000
REBUILD_UNITS = 50  # org units per step of the recount


def rebuild_figures(actor: Actor, progress=None) -> int:
    """Recompute the reports' figures tables from the case data (after restoring a backup, or
    loading rows outside the application), in short steps each committed with its own audit
    event, so that the rest of the service goes on meanwhile. Returns the number of cases.

    Counts stay consistent at every commit: each step of cases changes them by the difference
    it makes; the last steps recount the org units whose counts differ from their figures rows
    (mending counts that were wrong, not just missing), then the provinces whose counts are not
    the sum of their units'."""
    from app.outreach import months as outreach_months
    from app.reports import figures

    conn = db.session.connection()
    periods.retire_unused_rules(conn, _rules_in_use())
    pending = periods.pending_rules(conn)  # complete once every case below is refreshed
    done = last = 0
    size = REBUILD_CASES
    while ids := figures.case_ids_after(db.session.connection(), last, size):
        started = time.perf_counter()
        figures.refresh_cases(db.session.connection(), ids)
        _rebuild_step(actor, "cases", len(ids))
        took = max(time.perf_counter() - started, 1e-4)
        size = int(min(size * 2, max(size / 2, size * REBUILD_STEP_SECONDS / took)))
        size = max(1, min(REBUILD_MAX_CASES, size))
        done, last = done + len(ids), ids[-1]
        if progress:
            progress(len(ids))
    figures.drop_orphan_figures(db.session.connection())
    db.session.commit()
    _mend_units(
        actor,
        "counts",
        figures.counted_units_after,
        figures.units_with_wrong_counts,
        figures.recount_units,
        always_record=True,
    )
    # Then the outreach months, where they differ from the activities (loads outside the app).
    _mend_units(
        actor,
        "outreach_months",
        outreach_months.units_after,
        outreach_months.units_with_wrong_months,
        outreach_months.recount_units,
    )
    # Then each province's counts, the sum of its units' (one province a step).
    for province_id in figures.province_ids(db.session.connection()):
        if figures.province_counts_wrong(db.session.connection(), province_id):
            figures.recount_province(db.session.connection(), province_id)
            _rebuild_step(actor, "province_counts", 1)
    db.session.commit()
    periods.mark_counted(db.session.connection(), pending)
    if pending:
        _rebuild_step(actor, "periods", len(pending))
    return done


def _mend_units(actor: Actor, step: str, units_after, wrong, recount, always_record=False):
    """Walk the units in id order, REBUILD_UNITS a step: compared without locks, only those whose
    kept rows are off are recounted (under their shard locks), each step committed."""
    last = 0
    while units := units_after(db.session.connection(), last, REBUILD_UNITS):
        stale = wrong(db.session.connection(), units)
        if stale:
            recount(db.session.connection(), stale)
        if stale or always_record:
            _rebuild_step(actor, step, len(stale))
        last = units[-1]


def _rules_in_use() -> set[RuleDates]:
    return {row.dates for row in db.session.execute(sa.select(OfficialReportRule)).scalars()}


def rebuild_figures_job() -> int:
    """The background job a plan's new cut-off days start (app.jobs)."""
    return rebuild_figures(Actor.system("reports-rebuild"))


def _rebuild_step(actor: Actor, step: str, count: int) -> None:
    audit.record(
        actor,
        "report.figures_rebuilt",
        object_type="report",
        details={"step": step, "count": count},
    )
    db.session.commit()
