"""JSON API for auditors: one case's audit trail (codes, actions, actors, times; no contents).

Bearer tokens only, as every /api/ path (see app/cases/api.py).
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from app import openapi
from app.audit import queries, services
from app.audit.routes import CASE_AUDITORS
from app.cases.api import authenticate_with_token_only
from app.extensions import csrf, db
from app.permissions import current_actor, roles_required

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")
csrf.exempt(bp)
bp.before_request(authenticate_with_token_only)

EVENT_FIELDS = ("seq", "occurred_at", "actor_username", "actor_role", "action", "outcome")


@bp.get("/cases/<code>")
@roles_required(*CASE_AUDITORS)
def case_events(code: str):
    actor = current_actor()
    code = queries.get_case_code_or_404(actor, code)
    events = queries.case_events(actor, code, limit=queries.CASE_PAGE_LIMIT)
    codes = queries.unit_codes({e.org_unit_id for e in events})
    services.record_audit_viewed(actor, {"object_ref": code}, via="api")
    db.session.commit()
    items = [
        {
            **{name: getattr(e, name) for name in EVENT_FIELDS},
            "occurred_at": e.occurred_at.isoformat(),
            "org_unit": codes.get(e.org_unit_id),
        }
        for e in events
    ]
    return jsonify(case_code=code, items=items)


openapi.register_path(
    "/api/v1/audit/cases/{code}",
    "get",
    {
        "summary": "Who saw or changed a case (auditors: cases of their org subtree)",
        "parameters": [
            {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}
        ],
        "responses": {
            "200": {
                "description": "The case's audit events, newest first (at most 500)",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "case_code": {"type": "string"},
                                "items": {
                                    "type": "array",
                                    "items": {
                                        "type": "object",
                                        "properties": {
                                            "seq": {"type": "integer"},
                                            "occurred_at": {
                                                "type": "string",
                                                "format": "date-time",
                                            },
                                            "actor_username": {"type": "string"},
                                            "actor_role": {"type": "string", "nullable": True},
                                            "org_unit": {"type": "string", "nullable": True},
                                            "action": {"type": "string"},
                                            "outcome": {"type": "string"},
                                        },
                                    },
                                },
                            },
                        }
                    }
                },
            },
            "401": {"description": "No valid bearer token"},
            "403": {"description": "Not an auditor or admin"},
            "404": {"description": "No such case in the caller's org subtree"},
        },
    },
)
