"""JSON API under /api/v1/referrals: partners read and answer theirs; caseworkers create and
read referrals of cases in scope; a FHIR R4 Bundle (Task + ServiceRequest) per referral.

Bearer tokens only (see app/cases/api.py): the session cookie is never used for /api/.
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_babel import gettext as _
from marshmallow import ValidationError

from app import openapi
from app.audit import services as audit
from app.cases.api import authenticate_with_token_only
from app.cases.queries import get_case_or_404
from app.extensions import csrf, db
from app.permissions import PermissionDenied, Role, current_actor, roles_required
from app.referrals import fhir, fhir_tasks, queries, schemas, services, sharing
from app.referrals.status import PRIORITIES
from app.web.params import page_arg

bp = Blueprint("referrals_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
# The same rule as the cases API: only the bearer token decides, never the session cookie.
bp.before_request(authenticate_with_token_only)

API_ROLES = (Role.CASEWORKER, Role.PARTNER)


def _error(message: str, status: int, **extra):
    return jsonify(error=message, status=status, **extra), status


def _load(schema):
    try:
        return schema.load(request.get_json(silent=True) or {}), None
    except ValidationError as exc:
        return None, _error(_("Dữ liệu không hợp lệ."), 400, fields=exc.messages)


def _dump(actor, referral) -> dict:
    view = sharing.shared_view(referral)
    is_partner = actor.has_role(Role.PARTNER)
    if is_partner and view.withdrawn:
        return {
            "id": referral.id,
            "partner_reference": referral.partner_reference,
            "status": "withdrawn",
            "withdrawn": True,
        }
    data = {
        "id": referral.id,
        "partner_reference": referral.partner_reference,
        "status": referral.status,
        "withdrawn": view.withdrawn,
        "category": referral.category,
        "priority": referral.priority,
        "service_id": str(referral.service_id),
        "sent_at": referral.sent_at,
        "respond_by": referral.respond_by,
        "reason_code": referral.reason_code,
        "outcome": referral.outcome,
        "completed_on": referral.completed_on,
        "shared": view.values,
        "partner_note": view.note,
    }
    if is_partner:
        return schemas.PartnerReferralSchema().dump(data)
    data.update(
        case_code=referral.case.code,
        need_id=referral.need_id,
        organization_id=str(referral.organization_id),
        shared_fields=list(referral.shared_fields or []),
        internal_note=sharing.read_internal_note(referral),
        created_at=referral.created_at,
        events=referral.events,
    )
    return schemas.CaseworkerReferralSchema().dump(data)


@bp.get("/referrals")
@roles_required(*API_ROLES)
def list_referrals():
    actor = current_actor()
    page = queries.referral_list(
        actor,
        status=request.args.get("status") or None,
        overdue_only=request.args.get("overdue") == "1",
        page=page_arg(),
    )
    return jsonify(
        items=[_dump(actor, r) for r in page.items],
        page=page.page,
        pages=page.pages,
        total=page.total,
    )


@bp.get("/referrals/<int:referral_id>")
@roles_required(*API_ROLES)
def get_referral(referral_id: int):
    actor = current_actor()
    referral = queries.get_referral_or_404(actor, referral_id)
    body = _dump(actor, referral)
    audit.record(actor, "referral.viewed", referral, details={"via": "api"})
    db.session.commit()
    return jsonify(body)


@bp.post("/referrals")
@roles_required(Role.CASEWORKER)
def create_referral():
    actor = current_actor()
    data, error = _load(schemas.ReferralCreateSchema())
    if error:
        return error
    case = get_case_or_404(actor, data["case_code"])
    need = next((n for n in case.needs if n.id == data["need_id"]), None)
    if need is None:
        return _error(_("Không tìm thấy nhu cầu này trong hồ sơ."), 404)
    service = queries.get_service_or_404(actor, data["service_id"])
    fields = data["fields_"] if data["fields_"] is not None else sharing.default_fields(case)
    try:
        referral = services.create_referral(
            actor,
            case,
            need,
            service,
            fields=fields,
            priority=data["priority"],
            partner_note=data["partner_note"],
            internal_note=data["internal_note"],
            hiv_status=data["hiv_status"],
        )
        if data["send"]:
            services.send_referral(actor, referral)
    except services.ReferralError as exc:
        db.session.rollback()
        return _error(str(exc.message), 422)
    db.session.commit()
    return jsonify(_dump(actor, referral)), 201


@bp.post("/referrals/<int:referral_id>/transition")
@roles_required(*API_ROLES)
def transition(referral_id: int):
    actor = current_actor()
    referral = queries.get_referral_or_404(actor, referral_id)
    data, error = _load(schemas.TransitionSchema())
    if error:
        return error
    if actor.has_role(Role.PARTNER) and sharing.is_withdrawn(referral):
        return _error(_("Chuyển gửi này đã được rút lại."), 409)
    to = data.pop("to")
    try:
        services.transition(actor, referral, to, services.TransitionInput(**data))
    except services.InvalidTransition as exc:
        db.session.rollback()
        return _error(str(exc.message), 409)
    except services.ReferralError as exc:
        db.session.rollback()
        return _error(str(exc.message), 422)
    except PermissionDenied:
        db.session.rollback()
        return _error(_("Không có quyền"), 403)
    db.session.commit()
    return jsonify(_dump(actor, referral))


@bp.get("/referrals/<int:referral_id>/fhir")
@roles_required(Role.CASEWORKER)
def referral_fhir(referral_id: int):
    actor = current_actor()
    referral = queries.get_referral_or_404(actor, referral_id)
    try:
        bundle = fhir_tasks.export_bundle(actor, referral, request.url_root + "fhir")
    except fhir.NotExportable:
        return _error(_("Bản nháp chưa gửi không được xuất ra FHIR."), 409)
    db.session.commit()
    response = jsonify(bundle)
    response.mimetype = "application/fhir+json"
    return response


# -- OpenAPI -----------------------------------------------------------------------------------

_ID = [{"name": "referral_id", "in": "path", "required": True, "schema": {"type": "integer"}}]
_REF = {"$ref": "#/components/schemas/Referral"}
_ERRORS = {
    "401": {"description": "No or invalid bearer token"},
    "403": {"description": "Role not allowed"},
    "404": {"description": "Not found or out of scope (audited)"},
}

openapi.register_schema(
    "Referral",
    {
        "type": "object",
        "description": "Partners get status and the shared fields only; after withdrawal only "
        "{id, partner_reference, status: withdrawn, withdrawn: true}. Partners never get the "
        "case code: `partner_reference` names the referral, and `shared.client_ref` (only with "
        "her consent) the person as this organization knows her.",
        "properties": {
            "id": {"type": "integer"},
            "partner_reference": {"type": "string", "example": "CG-7QK3-M2XD"},
            "status": {"type": "string"},
            "withdrawn": {"type": "boolean"},
            "category": {"type": "string"},
            "priority": {"type": "string", "enum": list(PRIORITIES)},
            "service_id": {"type": "string", "format": "uuid"},
            "sent_at": {"type": "string", "format": "date-time", "nullable": True},
            "respond_by": {"type": "string", "format": "date", "nullable": True},
            "reason_code": {"type": "string", "nullable": True},
            "outcome": {"type": "string", "nullable": True},
            "completed_on": {"type": "string", "format": "date", "nullable": True},
            "shared": {
                "type": "object",
                "additionalProperties": {"type": "string", "nullable": True},
            },
            "partner_note": {"type": "string", "nullable": True},
            "internal_note": {
                "type": "string",
                "nullable": True,
                "description": "caseworkers only; never sent to the partner",
            },
            "case_code": {"type": "string", "description": "caseworkers only"},
            "need_id": {"type": "integer", "description": "caseworkers only"},
            "shared_fields": {"type": "array", "items": {"type": "string"}},
            "events": {"type": "array", "items": {"type": "object"}},
        },
    },
)
openapi.register_path(
    "/api/v1/referrals",
    "get",
    {
        "summary": "List referrals (partners: addressed to their organization; caseworkers: scope)",
        "tags": ["referrals"],
        "parameters": [
            {"name": "status", "in": "query", "schema": {"type": "string"}},
            {"name": "overdue", "in": "query", "schema": {"type": "string", "enum": ["1"]}},
            {"name": "page", "in": "query", "schema": {"type": "integer"}},
        ],
        "responses": {
            "200": openapi.paged_response("A page of referrals", _REF),
            **_ERRORS,
        },
    },
)
openapi.register_path(
    "/api/v1/referrals",
    "post",
    {
        "summary": "Create (and by default send) a referral of a case's need (caseworkers)",
        "tags": ["referrals"],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["case_code", "need_id", "service_id"],
                        "properties": {
                            "case_code": {"type": "string"},
                            "need_id": {"type": "integer"},
                            "service_id": {"type": "string", "format": "uuid"},
                            "fields": {
                                "type": "array",
                                "items": {"type": "string", "enum": list(sharing.SHAREABLE_FIELDS)},
                            },
                            "priority": {"type": "string", "enum": list(PRIORITIES)},
                            "partner_note": {
                                "type": "string",
                                "maxLength": 2000,
                                "description": "read by the partner; no name, phone or ID",
                            },
                            "internal_note": {
                                "type": "string",
                                "maxLength": 2000,
                                "description": "for caseworkers only; never leaves",
                            },
                            "hiv_status": {"type": "string"},
                            "send": {"type": "boolean", "default": True},
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {"description": "Created", "content": {"application/json": {"schema": _REF}}},
            "400": {"description": "Invalid input"},
            "422": {"description": "Refused by a rule (no sharing consent, restricted, ...)"},
            **_ERRORS,
        },
    },
)
openapi.register_path(
    "/api/v1/referrals/{referral_id}",
    "get",
    {
        "summary": "Read one referral (partners: shared fields only)",
        "tags": ["referrals"],
        "parameters": _ID,
        "responses": {
            "200": {
                "description": "The referral",
                "content": {"application/json": {"schema": _REF}},
            },
            **_ERRORS,
        },
    },
)
openapi.register_path(
    "/api/v1/referrals/{referral_id}/transition",
    "post",
    {
        "summary": "Move a referral to another FHIR Task status",
        "tags": ["referrals"],
        "parameters": _ID,
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "required": ["to"],
                        "properties": {
                            "to": {"type": "string", "enum": schemas.STATUS_VALUES},
                            "reason_code": {"type": "string", "enum": schemas.REASON_VALUES},
                            "outcome": {"type": "string", "enum": schemas.OUTCOME_VALUES},
                            "service_date": {"type": "string", "format": "date"},
                            "note": {"type": "string"},
                            "verified_by": {"type": "string"},
                        },
                    }
                }
            },
        },
        "responses": {
            "200": {
                "description": "The referral after the move",
                "content": {"application/json": {"schema": _REF}},
            },
            "409": {"description": "Transition not allowed from this status, or withdrawn"},
            "422": {"description": "Missing reason code, outcome or service date"},
            **_ERRORS,
        },
    },
)
openapi.register_path(
    "/api/v1/referrals/{referral_id}/fhir",
    "get",
    {
        "summary": "The referral as a FHIR R4 Bundle (Task + ServiceRequest + Patient), shared "
        "fields only (caseworkers)",
        "tags": ["referrals"],
        "parameters": _ID,
        "responses": {
            "200": {
                "description": "FHIR Bundle",
                "content": {"application/fhir+json": {"schema": {"type": "object"}}},
            },
            **_ERRORS,
        },
    },
)
