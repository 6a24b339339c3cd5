"""Dashboards, six-monthly and annual reports with their exports, and the admins' plan pages."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.db import utcnow
from app.extensions import db
from app.home.panels import register_panel
from app.orgs.models import OrgUnit
from app.outreach.vocab import AUDIENCES
from app.permissions import Actor, PermissionDenied, Role, current_actor, roles_required
from app.reports import disclosure, exports, layout, periods, permissions, queries, services
from app.reports.forms import PlanForm, as_decimal, reached_fields
from app.reports.indicators import DEFAULT_WINDOW, WINDOWS, Period
from app.reports.models import PERCENT_INDICATORS, Indicator, Plan
from app.reports.svg import progress_bar
from app.web.templating import format_figure

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")

register_panel(
    "reports.dashboard",
    _l("Kết quả kết nối dịch vụ"),
    _l("Tỷ lệ được kết nối dịch vụ so với chỉ tiêu kế hoạch, theo đơn vị và theo tháng."),
    {Role.CASEWORKER, Role.SUPERVISOR},
    order=40,
)
register_panel(
    "reports.report",
    _l("Báo cáo 6 tháng / báo cáo năm"),
    _l("Lập báo cáo định kỳ theo mẫu, tải về Excel hoặc CSV."),
    {Role.CASEWORKER, Role.SUPERVISOR},
    order=45,
)
register_panel(
    "reports.plans",
    _l("Kế hoạch và chỉ tiêu"),
    _l("Ghi kế hoạch của đơn vị và các chỉ tiêu để so sánh kết quả."),
    {Role.ADMIN},
    order=60,
)

WINDOW_LABELS = {
    "30": _l("trong 30 ngày"),
    "60": _l("trong 60 ngày"),
    "90": _l("trong 90 ngày"),
    "period": _l("trong kỳ báo cáo"),
}


def legend_text(k: int) -> str:
    """The note on every protected page and export (app.reports.disclosure says why)."""
    return _(
        "Số liệu nhỏ đã được bảo vệ để không thể nhận ra ai: mỗi số được cộng hoặc trừ một "
        "lượng nhỏ cố định (thường 0–2, không quá %(width)d), cùng một nhóm người luôn cho "
        "cùng một số; nhóm có người mà số nhỏ hơn %(k)d được ghi “<%(k)d”; tổng có thể lệch "
        "đôi chút so với tổng các dòng; “—” là tỷ lệ không công bố.",
        width=disclosure.WIDTH,
        k=k,
    )


def case_link(code: str) -> str | None:
    """A caseworker's link to one of their own cases, when the cases module offers the page."""
    if "cases.detail" not in current_app.view_functions:
        return None
    return url_for("cases.detail", code=code)


def dashboard_args(actor: Actor) -> tuple[OrgUnit, date, str, Period, str]:
    """The dashboard's query, page and API alike: (unit, today, period key, period, window); a
    unit outside the actor's subtree is 404, anything but the fixed periods and windows 400."""
    unit = queries.get_unit_or_404(actor, request.args.get("unit"))
    today = periods.local_today()
    parsed = periods.parse_period(request.args.get("period"), today)
    window = request.args.get("window") or DEFAULT_WINDOW
    if parsed is None or window not in WINDOWS:
        abort(400)
    period_key, period = parsed
    return unit, today, period_key, period, window


def _bars(report: layout.Report) -> list:
    """Each plan's targets with its picture: [(plan, [(target, svg)])]."""
    out = []
    for progress in report.plans:
        items = []
        for t in progress.targets:
            label = f"{t.label}: {format_figure(t.actual_text)} / {format_figure(t.target_text)}"
            items.append(
                (t, progress_bar(t.actual, t.target, t.status, label, percent=t.is_percent))
            )
        out.append((progress.plan, items))
    return out


@bp.get("/")
@roles_required(*permissions.DASHBOARD_ROLES)
def dashboard():
    actor = current_actor()
    unit, today, period_key, period, window = dashboard_args(actor)
    protected = permissions.figures_protected(actor)
    report = layout.build_report(
        unit,
        period,
        window,
        protected=protected,
        k=layout.suppression_k(),
        today=today,
        with_cases=permissions.may_open_cases(actor),
    )
    if protected:
        disclosure.release(report)
    return render_template(
        "reports/dashboard.html",
        report=report,
        bars=_bars(report),
        period_key=period_key,
        period_choices=periods.period_choices(today),
        windows=WINDOW_LABELS,
        columns=layout.COLUMNS,
        breakdown_columns=layout.BREAKDOWN_COLUMNS,
        training_columns=layout.TRAINING_COLUMNS,
        case_link=case_link if permissions.may_open_cases(actor) else None,
        legend_help=legend_text(report.k),
        parent=unit.parent if unit.parent and actor.covers_path(unit.parent.path) else None,
    )


def _report_args(actor: Actor):
    unit = queries.get_unit_or_404(actor, request.args.get("unit"))
    today = periods.local_today()
    kind = request.args.get("kind") or "six_monthly"
    try:
        year = int(request.args.get("year") or today.year)
    except ValueError:
        abort(400)
    if kind not in periods.REPORT_KINDS or year not in periods.year_range(today):
        abort(400)
    plans = layout.applicable_plans(unit, periods.report_period(kind, year))
    plan = None
    if request.args.get("plan"):
        plan = next((p for p in plans if str(p.id) == request.args["plan"]), None)
        if plan is None:
            abort(404)
    return unit, kind, year, plan, plans, today


@bp.get("/report")
@roles_required(*permissions.EXPORT_ROLES)
def report():
    actor = current_actor()
    unit, kind, year, plan, plans, today = _report_args(actor)
    built = disclosure.release(layout.upward_report(unit, kind, year, today, plan))
    services.record_view(actor, unit, kind, str(year))
    db.session.commit()
    return render_template(
        "reports/report.html",
        report=built,
        kind=kind,
        year=year,
        plans=plans,
        title=periods.report_title(kind, year),
        due=periods.due_date(kind, year),
        years=list(reversed(periods.year_range(today))),
        columns=layout.COLUMNS,
        legend_help=legend_text(built.k),
    )


@bp.get("/report.<fmt>")
@roles_required(*permissions.EXPORT_ROLES)
def export(fmt: str):
    actor = current_actor()
    if fmt not in ("xlsx", "csv"):
        abort(404)
    unit, kind, year, plan, _plans, today = _report_args(actor)
    with force_locale("vi"):
        built = layout.upward_report(unit, kind, year, today, plan)
        try:
            checkpoint = services.record_export(actor, unit, kind, str(year), fmt)
        except PermissionDenied:
            abort(403)
        meta = _export_meta(actor, built, kind, year, checkpoint)
        body = exports.to_xlsx(built, meta) if fmt == "xlsx" else exports.to_csv(built, meta)
    db.session.commit()
    name = f"bao-cao-{'6-thang' if kind == 'six_monthly' else 'nam'}-{year}-{unit.code}.{fmt}"
    mimetype = exports.XLSX_MIME if fmt == "xlsx" else "text/csv; charset=utf-8"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _export_meta(actor, built: layout.Report, kind, year, checkpoint) -> exports.ExportMeta:
    plan = built.plan
    plan_label = (
        f"{plan.name} ({plan.number}, {plan.issuing_body})".replace(" (, )", "")
        if plan
        else _("Chưa có kế hoạch; chỉ tiêu mặc định %(t)s%%", t=80)
    )
    return exports.ExportMeta(
        title=periods.report_title(kind, year),
        unit_label=f"{built.unit.name} ({built.unit.code})",
        period_label=f"{built.period.start:%d/%m/%Y} – {built.period.end:%d/%m/%Y}",
        plan_label=plan_label,
        due_label=f"{periods.due_date(kind, year):%d/%m/%Y}",
        made_at=utcnow().astimezone(periods.LOCAL_TZ),
        made_by=actor.username,
        checkpoint=checkpoint,
        notice=legend_text(built.k),
    )


# ------------------------------------------------------------------------------ plans (admins)


@bp.get("/plans")
@roles_required(*permissions.PLAN_ROLES)
def plans():
    return render_template("reports/plans.html", plans=queries.plans_in_scope(current_actor()))


def _plan_form(actor: Actor, plan: Plan | None = None) -> PlanForm:
    form = PlanForm(obj=None)
    form.org_unit.choices = [
        (u.code, f"{u.name} ({u.code})") for u in queries.units_in_scope(actor)
    ]
    if plan is not None and request.method == "GET":
        form.org_unit.data = plan.org_unit.code
        for name in ("name", "number", "issuing_body", "period_start", "period_end"):
            getattr(form, name).data = getattr(plan, name)
        targets = {(t.indicator, t.audience): t for t in plan.targets}
        # The percentage targets' fields are named after their indicators.
        for indicator in PERCENT_INDICATORS:
            target = targets.get((indicator.value, None))
            getattr(form, indicator.value).data = target.value if target else None
        answered = targets.get((Indicator.REFERRALS_ANSWERED.value, None))
        if answered is not None:
            form.answer_days.data = answered.days
        for code in AUDIENCES:
            target = targets.get((Indicator.PEOPLE_REACHED.value, code))
            getattr(form, f"reached_{code}").data = int(target.value) if target else None
    return form


def _plan_data(actor: Actor, form: PlanForm) -> services.PlanData:
    unit = queries.get_unit_or_404(actor, form.org_unit.data)
    return services.PlanData(
        org_unit=unit,
        name=form.name.data.strip(),
        number=(form.number.data or "").strip(),
        issuing_body=(form.issuing_body.data or "").strip(),
        period_start=form.period_start.data,
        period_end=form.period_end.data,
        connected_rate=as_decimal(form.connected_rate.data),
        communes_with_outreach=as_decimal(form.communes_with_outreach.data),
        staff_trained=as_decimal(form.staff_trained.data),
        referrals_answered=as_decimal(form.referrals_answered.data),
        answer_days=form.answer_days.data,
        reached={code: getattr(form, f"reached_{code}").data for code in AUDIENCES},
    )


def _save_plan(actor: Actor, form: PlanForm, plan: Plan | None):
    if not form.validate_on_submit():
        return None
    try:
        data = _plan_data(actor, form)
        if plan is None:
            return services.create_plan(actor, data)
        return services.update_plan(actor, plan, data)
    except services.PlanError as exc:
        db.session.rollback()
        getattr(form, exc.field or "name").errors = [exc.message]
        return None


@bp.route("/plans/new", methods=["GET", "POST"])
@roles_required(*permissions.PLAN_ROLES)
def plan_new():
    actor = current_actor()
    form = _plan_form(actor)
    if request.method == "POST":
        saved = _save_plan(actor, form, None)
        if saved is None:
            return _plan_page(form, None), 400
        db.session.commit()
        flash(_("Đã ghi kế hoạch."), "success")
        return redirect(url_for("reports.plans"))
    return _plan_page(form, None)


@bp.route("/plans/<int:plan_id>/edit", methods=["GET", "POST"])
@roles_required(*permissions.PLAN_ROLES)
def plan_edit(plan_id: int):
    actor = current_actor()
    plan = queries.get_plan_or_404(actor, plan_id)
    form = _plan_form(actor, plan)
    if request.method == "POST":
        if _save_plan(actor, form, plan) is None:
            return _plan_page(form, plan), 400
        db.session.commit()
        flash(_("Đã cập nhật kế hoạch."), "success")
        return redirect(url_for("reports.plans"))
    return _plan_page(form, plan)


def _plan_page(form: PlanForm, plan: Plan | None):
    return render_template(
        "reports/plan_form.html", form=form, plan=plan, reached=reached_fields(form)
    )
