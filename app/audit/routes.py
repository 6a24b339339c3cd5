"""The audit viewer and its CSV exports.

Admins see every event; auditors the events of their subtree, with case codes, and one case's
events on its own page; supervisors staff activity only (app/audit/activity.py). Every read,
page or export, is itself audited.
"""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l

from app.audit import activity, queries, services
from app.audit.forms import ActivityFilterForm, AuditFilterForm
from app.db import utcnow
from app.extensions import db
from app.home.panels import register_panel
from app.permissions import Role, current_actor, roles_required
from app.web.params import page_arg

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")

register_panel(
    "audit.index",
    _l("Nhật ký truy cập và thay đổi"),
    _l("Ai đã làm gì và khi nào; mỗi lần xem nhật ký cũng được ghi lại."),
    {Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR},
    order=70,
)

VIEWERS = (Role.ADMIN, Role.AUDITOR, Role.SUPERVISOR)
CASE_AUDITORS = (Role.ADMIN, Role.AUDITOR)


@bp.app_template_global()
def kind_label(kind: str) -> str:
    return activity.kind_label(kind)


def _csv_cell(value) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_lines(header, batches):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()  # the BOM lets spreadsheets read Vietnamese as UTF-8
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_cell(v) for v in row] for row in batch)
        yield buffer.getvalue()


def _csv_response(header, batches, name: str) -> Response:
    filename = f"{name}-{utcnow():%Y%m%d-%H%M%S}.csv"
    return Response(
        stream_with_context(_csv_lines(header, batches)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


# -- supervisors: staff activity ---------------------------------------------------------------


def _activity(actor, export: bool):
    form = ActivityFilterForm(formdata=request.args)
    if not form.validate():
        return render_template("audit/activity.html", form=form, page=None, counts=[], args={}), 400
    filters = form.filters()
    if export:
        rows = activity.count_rows(actor, filters)
        seq = services.record_audit_exported(
            actor, filters.recorded(), rows, report="staff_activity"
        ).seq
        db.session.commit()
        batches = activity.export_batches(actor, filters, before_seq=seq)
        return _csv_response(activity.EXPORT_COLUMNS, batches, "hoat-dong-can-bo")
    page = activity.activity_page(actor, filters, page_arg())
    counts = activity.activity_counts(actor, filters)
    services.record_audit_viewed(actor, filters.recorded())
    db.session.commit()
    return render_template(
        "audit/activity.html", form=form, page=page, counts=counts, args=filters.query_args()
    )


# -- admins and auditors: the events -----------------------------------------------------------


@bp.get("/")
@roles_required(*VIEWERS)
def index():
    actor = current_actor()
    if actor.has_role(Role.SUPERVISOR):
        return _activity(actor, export=False)
    form = AuditFilterForm(formdata=request.args)
    if not form.validate():
        return render_template("audit/index.html", form=form, page=None, codes={}, args={}), 400
    filters = form.filters()
    page, codes = queries.search_events(actor, filters, page_arg())
    services.record_audit_viewed(actor, queries.recorded_filters(filters))
    db.session.commit()
    return render_template(
        "audit/index.html", form=form, page=page, codes=codes, args=filters.query_args()
    )


@bp.get("/export.csv")
@roles_required(*VIEWERS)
def export_csv():
    actor = current_actor()
    if actor.has_role(Role.SUPERVISOR):
        return _activity(actor, export=True)
    form = AuditFilterForm(formdata=request.args)
    if not form.validate():
        return render_template("audit/index.html", form=form, page=None, codes={}, args={}), 400
    filters = form.filters()
    rows = queries.count_events(actor, filters)
    event_seq = services.record_audit_exported(actor, queries.recorded_filters(filters), rows).seq
    db.session.commit()
    # The export is the view as it was when it was recorded: not its own event, nor later ones.
    batches = queries.export_batches(actor, filters, before_seq=event_seq)
    return _csv_response(queries.export_columns(actor), batches, "nhat-ky")


@bp.get("/cases/<code>")
@roles_required(*CASE_AUDITORS)
def case(code: str):
    """Who saw or changed one case: its events, never its contents."""
    actor = current_actor()
    code = queries.get_case_code_or_404(actor, code)
    events = queries.case_events(actor, code, limit=queries.CASE_PAGE_LIMIT)
    codes = queries.unit_codes({e.org_unit_id for e in events})
    services.record_audit_viewed(actor, {"object_ref": code})
    db.session.commit()
    return render_template("audit/case.html", code=code, events=events, codes=codes)


@bp.get("/cases/<code>/export.csv")
@roles_required(*CASE_AUDITORS)
def case_export(code: str):
    actor = current_actor()
    code = queries.get_case_code_or_404(actor, code)
    filters = queries.AuditFilters(object_ref=code)
    rows = queries.count_case_events(actor, code)
    seq = services.record_audit_exported(actor, {"object_ref": code}, rows, report="case").seq
    db.session.commit()
    batches = queries.export_batches(actor, filters, before_seq=seq, object_type="case")
    return _csv_response(queries.export_columns(actor), batches, "nhat-ky-ho-so")
