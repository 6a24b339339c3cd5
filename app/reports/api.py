"""JSON API of the aggregates: /api/v1/reports/... (bearer token or signed-in session).

Always the protected figures (app.reports.disclosure, as on a supervisor's page), whoever asks,
and never a case code: the API is for reporting upward, not for following cases.
"""

from __future__ import annotations

from flask import Blueprint, abort, jsonify, request

from app import openapi
from app.extensions import db
from app.permissions import current_actor, roles_required
from app.reports import disclosure, layout, periods, permissions, queries, schemas, services
from app.reports.indicators import WINDOWS
from app.reports.routes import dashboard_args

bp = Blueprint("reports_api", __name__, url_prefix="/api/v1/reports")

_schema = schemas.ReportSchema()


@bp.get("/dashboard")
@roles_required(*permissions.DASHBOARD_ROLES)
def dashboard():
    actor = current_actor()
    unit, today, period_key, period, window = dashboard_args(actor)
    report = layout.build_report(
        unit,
        period,
        window,
        protected=True,
        k=layout.suppression_k(),
        today=today,
    )
    body = _schema.dump(disclosure.release(report))
    body["period"] = period_key
    return jsonify(body)


@bp.get("/<kind>/<int:year>")
@roles_required(*permissions.EXPORT_ROLES)
def report(kind: str, year: int):
    actor = current_actor()
    today = periods.local_today()
    if kind not in periods.REPORT_KINDS or year not in periods.year_range(today):
        abort(404)
    unit = queries.get_unit_or_404(actor, request.args.get("unit"))
    report = disclosure.release(layout.upward_report(unit, kind, year, today))
    checkpoint = services.record_export(actor, unit, kind, str(year), "json")
    db.session.commit()
    body = _schema.dump(report)
    body.update(
        kind=kind, year=year, due=periods.due_date(kind, year).isoformat(), checkpoint=checkpoint
    )
    return jsonify(body)


def _register_openapi() -> None:
    _body = openapi.body_of(schemas.ReportSchema)
    unit = {
        "name": "unit",
        "in": "query",
        "schema": {"type": "string"},
        "description": "Org unit code in your subtree (default: your own unit)",
    }
    openapi.register_path(
        "/api/v1/reports/dashboard",
        "get",
        {
            "summary": "Connected rate and other plan indicators for an org unit subtree "
            "(protected by the cell-key method: the same people always give the same figure, "
            'small counts shown as "<k")',
            "parameters": [
                unit,
                {
                    "name": "period",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "YYYY, YYYY-H1 or YYYY-H2",
                },
                {
                    "name": "window",
                    "in": "query",
                    "schema": {"type": "string", "enum": list(WINDOWS)},
                },
            ],
            "responses": {
                "200": openapi.json_response(
                    "The dashboard figures",
                    openapi.with_properties(_body, period={"type": "string"}),
                ),
                "400": {"description": "Not one of the fixed periods or windows"},
                "404": {"description": "Unit not found or outside your scope"},
            },
        },
    )
    openapi.register_path(
        "/api/v1/reports/{kind}/{year}",
        "get",
        {
            "summary": "Six-monthly or annual report (audited as an export, with the audit "
            "checkpoint of that moment)",
            "parameters": [
                {
                    "name": "kind",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": list(periods.REPORT_KINDS)},
                },
                {"name": "year", "in": "path", "required": True, "schema": {"type": "integer"}},
                unit,
            ],
            "responses": {
                "200": openapi.json_response(
                    "The report rows, one per child unit and a total",
                    openapi.with_properties(
                        _body,
                        kind={"type": "string"},
                        year={"type": "integer"},
                        due={"type": "string", "format": "date"},
                        checkpoint={"type": "string"},
                    ),
                ),
                "404": {"description": "Unit not found or outside your scope"},
            },
        },
    )


_register_openapi()
