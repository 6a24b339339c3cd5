"""The audit viewer: admins see every event, supervisors their org subtree; CSV export."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import lazy_gettext as _l

from app.audit import queries, services
from app.audit.forms import AuditFilterForm
from app.db import utcnow
from app.extensions import db
from app.home.panels import register_panel
from app.permissions import Role, current_actor, roles_required

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")

register_panel(
    "audit.index",
    _l("Nhật ký truy cập và thay đổi"),
    _l("Ai đã xem, thay đổi, xuất dữ liệu hoặc bị từ chối truy cập, và khi nào."),
    {Role.ADMIN, Role.SUPERVISOR},
    order=70,
)

VIEWERS = (Role.ADMIN, Role.SUPERVISOR)


def _filter_form() -> AuditFilterForm:
    return AuditFilterForm(formdata=request.args)


@bp.get("/")
@roles_required(*VIEWERS)
def index():
    actor = current_actor()
    form = _filter_form()
    if not form.validate():
        return render_template("audit/index.html", form=form, page=None, codes={}, args={}), 400
    filters = form.filters()
    page, codes = queries.search_events(actor, filters, request.args.get("page", 1, type=int) or 1)
    services.record_audit_viewed(actor, queries.recorded_filters(filters))
    db.session.commit()
    return render_template(
        "audit/index.html", form=form, page=page, codes=codes, args=filters.query_args()
    )


def _csv_cell(value) -> str:
    if value is None:
        return ""
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    # A cell starting with = + - @ would run as a formula in a spreadsheet.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv_lines(batches):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(queries.EXPORT_COLUMNS)
    yield "\ufeff" + buffer.getvalue()  # the BOM lets spreadsheets read Vietnamese as UTF-8
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([_csv_cell(v) for v in row] for row in batch)
        yield buffer.getvalue()


@bp.get("/export.csv")
@roles_required(*VIEWERS)
def export_csv():
    actor = current_actor()
    form = _filter_form()
    if not form.validate():
        return render_template("audit/index.html", form=form, page=None, codes={}, args={}), 400
    filters = form.filters()
    rows = queries.count_events(actor, filters)
    event_seq = services.record_audit_exported(actor, queries.recorded_filters(filters), rows).seq
    db.session.commit()
    filename = f"nhat-ky-{utcnow():%Y%m%d-%H%M%S}.csv"
    # The export is the view as it was when it was recorded: not its own event, nor later ones.
    batches = queries.export_batches(actor, filters, before_seq=event_seq)
    return Response(
        stream_with_context(_csv_lines(batches)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
