"""Outreach pages: the one-screen form, the lists, the indicators and the Excel import."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.home.panels import register_panel
from app.imports.bounds import FileRefused, read_upload
from app.imports.models import RunStatus
from app.orgs.models import OrgUnit
from app.outreach import import_runs, importer, indicators, permissions, queries, services
from app.outreach.forms import OutreachForm
from app.outreach.models import new_idempotency_key
from app.outreach.vocab import AUDIENCES, FORMS, PLACES, TOPICS
from app.permissions import Role, current_actor, deny, public, roles_required
from app.web.forms import DeleteForm, XlsxImportForm, choices
from app.web.params import int_arg, page_arg

bp = Blueprint("outreach", __name__, url_prefix="/outreach", template_folder="templates")

PER_PAGE = 20

register_panel(
    "outreach.new",
    _l("Hoạt động tuyên truyền"),
    _l("Ghi nhanh một buổi tuyên truyền ngay khi kết thúc, kể cả khi mạng yếu."),
    permissions.LOGGING_ROLES,
    order=20,
)
register_panel(
    "outreach.index",
    _l("Danh sách hoạt động tuyên truyền"),
    _l("Xem, sửa các hoạt động đã ghi; nhập từ tệp Excel."),
    permissions.LOGGING_ROLES,
    order=82,
)
register_panel(
    "outreach.indicators",
    _l("Số liệu tuyên truyền"),
    _l("Tỷ lệ xã có hoạt động, số người được tiếp cận theo nhóm và theo hình thức."),
    permissions.LOGGING_ROLES,
    order=83,
)


def _vocab() -> dict:
    return {"FORMS": FORMS, "PLACES": PLACES, "TOPICS": TOPICS, "AUDIENCES": AUDIENCES}


def _prepare(form: OutreachForm, communes: list[OrgUnit]) -> None:
    form.org_unit_id.choices = choices((u.id, f"{u.name} ({u.code})") for u in communes)


def _render_form(form, communes, status=200, activity=None, loose=()):
    return render_template(
        "outreach/form.html",
        form=form,
        communes=communes,
        activity=activity,
        loose_errors=list(loose),
        delete_form=DeleteForm() if activity else None,
        today_iso=services.today().isoformat(),
        **_vocab(),
    ), status


def _save(form: OutreachForm, communes, activity=None):
    """Shared POST path of new/edit: scope check (404), one service, one commit.

    Returns (error page, False) when the entry is refused, else (None, whether it was written).
    """
    actor = current_actor()
    if actor.has_role(Role.VOLUNTEER) and form.org_unit_id.data is None:
        form.org_unit_id.data = actor.org_unit_id
    if form.org_unit_id.data is None:
        loose = form.add_errors({"org_unit_id": _("Hãy chọn một xã/phường.")})
        return _render_form(form, communes, 400, activity, loose), False
    queries.get_commune_or_404(actor, form.org_unit_id.data)
    try:
        if activity is None:
            activity, written = services.create_activity(
                actor, form.to_entry(), form.idempotency_key.data
            )
        else:
            written = bool(services.update_activity(actor, activity, form.to_entry()))
    except services.InvalidEntry as exc:
        loose = form.add_errors(exc.errors)
        return _render_form(form, communes, 400, activity, loose), False
    except services.KeyConflict:
        return _render_form(form, communes, 400, activity, [_("Mã gửi đã được dùng.")]), False
    except services.PermissionDenied:
        deny(actor, "outreach_activity", str(activity.id) if activity else None)
    db.session.commit()
    return None, written


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*permissions.LOGGING_ROLES)
def new():
    actor = current_actor()
    communes = queries.communes_in_scope(actor)
    form = OutreachForm()
    _prepare(form, communes)
    if form.validate_on_submit():
        refused, created = _save(form, communes)
        if refused is not None:
            return refused
        flash(
            _("Đã ghi hoạt động tuyên truyền.")
            if created
            else _("Hoạt động này đã được ghi trước đó."),
            "success",
        )
        return redirect(url_for("outreach.new"))
    if form.is_submitted():
        return _render_form(form, communes, 400)
    form.idempotency_key.data = new_idempotency_key()
    form.held_on.data = services.today()
    if len(communes) == 1:
        form.org_unit_id.data = communes[0].id
    elif any(u.id == actor.org_unit_id for u in communes):
        form.org_unit_id.data = actor.org_unit_id
    return _render_form(form, communes)


@bp.route("/<int:activity_id>/edit", methods=["GET", "POST"])
@roles_required(*permissions.LOGGING_ROLES)
def edit(activity_id: int):
    actor = current_actor()
    activity = queries.get_activity_or_404(actor, activity_id)
    if not permissions.can_change(actor, activity, queries.unit_path(activity), services.now()):
        deny(actor, "outreach_activity", str(activity.id))
    communes = queries.communes_in_scope(actor)
    form = OutreachForm(obj=activity if request.method == "GET" else None)
    _prepare(form, communes)
    if form.validate_on_submit():
        refused, changed = _save(form, communes, activity)
        if refused is not None:
            return refused
        flash(_("Đã lưu thay đổi.") if changed else _("Không có gì thay đổi."), "success")
        return redirect(url_for("outreach.index"))
    return _render_form(form, communes, 400 if form.is_submitted() else 200, activity)


@bp.post("/<int:activity_id>/delete")
@roles_required(*permissions.LOGGING_ROLES)
def delete(activity_id: int):
    actor = current_actor()
    activity = queries.get_activity_or_404(actor, activity_id)
    if not DeleteForm().validate_on_submit():
        return redirect(url_for("outreach.edit", activity_id=activity.id))
    try:
        services.delete_activity(actor, activity)
    except services.PermissionDenied:
        deny(actor, "outreach_activity", str(activity.id))
    db.session.commit()
    flash(_("Đã xoá hoạt động."), "success")
    return redirect(url_for("outreach.index"))


@bp.get("/")
@roles_required(*permissions.LOGGING_ROLES)
def index():
    actor = current_actor()
    view = request.args.get("view", "mine")
    if view not in ("mine", "unit"):
        view = "mine"
    communes = queries.communes_in_scope(actor)
    unit_id = int_arg("org_unit")
    if unit_id is not None:
        queries.get_commune_or_404(actor, unit_id)
    stmt = queries.visible_activities(actor, mine=view == "mine", org_unit_id=unit_id)
    page = db.paginate(stmt, page=page_arg(), per_page=PER_PAGE, error_out=False)
    stamp = services.now()
    editable = {
        a.id for a in page.items if permissions.can_change(actor, a, queries.unit_path(a), stamp)
    }
    return render_template(
        "outreach/list.html",
        page=page,
        view=view,
        communes=communes,
        unit_id=unit_id,
        editable=editable,
        **_vocab(),
    )


def _period() -> tuple[date, date]:
    today = services.today()
    start, end = date(today.year, 1, 1), today
    for name in ("start", "end"):
        text = request.args.get(name, "")
        if text:
            try:
                value = date.fromisoformat(text)
            except ValueError:
                continue
            start, end = (value, end) if name == "start" else (start, value)
    if start > end:
        start, end = end, start
    return start, end


@bp.get("/indicators", endpoint="indicators")
@roles_required(*permissions.LOGGING_ROLES)
def indicators_page():
    actor = current_actor()
    unit = db.session.get(OrgUnit, actor.org_unit_id)
    start, end = _period()
    covered, total = indicators.communes_with_activity(unit, start, end)
    return render_template(
        "outreach/indicators.html",
        unit=unit,
        start=start,
        end=end,
        covered=covered,
        total=total,
        without=indicators.communes_without_activity(unit, start, end),
        reached=indicators.people_reached(unit, start, end),
        by_form=indicators.reached_by_form(unit, start, end),
        per_month=indicators.activities_per_month(unit, start, end),
        **_vocab(),
    )


@bp.get("/template.xlsx")
@roles_required(*permissions.LOGGING_ROLES)
def template():
    data = importer.build_template(queries.communes_in_scope(current_actor()))
    response = current_app.response_class(
        data, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response.headers["Content-Disposition"] = "attachment; filename=mau-hoat-dong-tuyen-truyen.xlsx"
    return response


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*permissions.LOGGING_ROLES)
def import_page():
    actor = current_actor()
    form = XlsxImportForm()
    errors: list[tuple[int, str]] = []
    if form.validate_on_submit() and form.file.data:
        root = db.session.get(OrgUnit, actor.org_unit_id)
        try:
            data = read_upload(form.file.data.stream, importer.LIMITS)
            run = import_runs.import_file(actor, root, data, via="web")
        except (importer.WorkbookError, FileRefused) as exc:
            errors = [(0, str(exc))]
        else:
            if run.status == RunStatus.REFUSED:
                errors = [(row, message) for row, message in run.errors or []]
            elif run.status == RunStatus.DONE:
                flash(
                    _(
                        "Đã nhập %(n)d hoạt động (%(a)d dòng đã có từ trước).",
                        n=run.rows_created,
                        a=run.rows_published - run.rows_created,
                    ),
                    "success",
                )
                return redirect(url_for("outreach.index", view="unit"))
            else:
                return redirect(url_for("imports.progress", run_id=run.id))
    elif form.is_submitted():
        errors = [(0, _("Hãy chọn tệp Excel (.xlsx) để nhập."))]
    return render_template("outreach/import.html", form=form, errors=errors), (
        400 if errors else 200
    )


@bp.get("/sw.js")
@public
def service_worker():
    """The offline worker, served under /outreach/ so that its scope covers the form. It holds
    no data itself: anonymous callers get the same static file as everyone."""
    response = send_from_directory(current_app.static_folder, "js/outreach-sw.js", max_age=0)
    response.headers["Service-Worker-Allowed"] = "/outreach/"
    response.headers["Cache-Control"] = "no-cache"
    return response
