"""The official report: a print page (A4, page numbers) and the same document in Excel."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import force_locale

from app.extensions import db
from app.permissions import PermissionDenied, current_actor, roles_required
from app.reports import official, official_xlsx, periods, permissions, queries, services

bp = Blueprint("official", __name__, url_prefix="/reports/official")
TEXT_LIMIT = 200
RETRY_AFTER_SECONDS = 60


def _args():
    actor = current_actor()
    unit = queries.get_unit_or_404(actor, request.args.get("unit"))
    today = periods.local_today()
    kind = request.args.get("kind") or "six_monthly"
    year = request.args.get("year", today.year, type=int)
    if kind not in official.KINDS or year not in periods.year_range(today):
        abort(400)
    plan = None
    if request.args.get("plan"):
        plans = official.plan_choices(unit, kind, year)
        plan = next((p for p in plans if str(p.id) == request.args["plan"]), None) or abort(404)
    text = {
        name: (request.args.get(name) or "").strip()[:TEXT_LIMIT]
        for name in ("number", "signer_title", "signer_name", "place")
    }
    recipients = [
        line.strip()[:TEXT_LIMIT]
        for line in (request.args.get("recipients") or "").splitlines()
        if line.strip()
    ][:10]
    return actor, unit, kind, year, today, plan, text, recipients


def _build(unit, kind, year, today, plan, text, recipients):
    return official.build(unit, kind, year, today, plan, recipients=recipients, **text)


@bp.errorhandler(official.FiguresPending)
def _pending(exc: official.FiguresPending):
    """The plan's cut-offs just changed: say so, and when to come back, rather than print
    figures counted over part of the cases."""
    body = render_template("reports/official_pending.html", period=exc.period)
    return body, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}


@bp.get("/")
@roles_required(*permissions.EXPORT_ROLES)
def page():
    actor, unit, kind, year, today, plan, text, recipients = _args()
    with force_locale("vi"):  # an administrative document is in Vietnamese
        document = _build(unit, kind, year, today, plan, text, recipients)
        services.record_view(actor, unit, f"official-{kind}", str(year))
        db.session.commit()
        return render_template(
            "reports/official.html",
            doc=document,
            form=dict(text, recipients="\n".join(recipients), kind=kind, year=year),
            years=list(reversed(periods.year_range(today))),
        )


@bp.get("/report.xlsx")
@roles_required(*permissions.EXPORT_ROLES)
def xlsx():
    actor, unit, kind, year, today, plan, text, recipients = _args()
    with force_locale("vi"):
        document = _build(unit, kind, year, today, plan, text, recipients)
        try:
            services.record_export(actor, unit, f"official-{kind}", str(year), "xlsx")
        except PermissionDenied:
            abort(403)
        body = official_xlsx.to_xlsx(document)
    db.session.commit()
    name = f"bao-cao-chinh-thuc-{kind}-{year}-{unit.code}.xlsx"
    return Response(
        body,
        mimetype=official_xlsx.XLSX_MIME,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
