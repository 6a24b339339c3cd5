"""JSON API: /api/v1/outreach — list in scope, create (idempotent), read.

Used by the offline queue of the outreach page (session cookie + X-CSRFToken header) and by
API clients (bearer token, through Flask-Login's request loader: no cookie, so no CSRF).
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError, validate_csrf
from marshmallow import ValidationError
from wtforms import ValidationError as WTFValidationError

from app.extensions import csrf, db
from app.outreach import permissions, queries, services
from app.outreach.schemas import ActivityInSchema, ActivityOutSchema, entry_from, error_messages
from app.permissions import Role, current_actor, deny, roles_required
from app.web.params import int_arg, page_arg

bp = Blueprint("outreach_api", __name__, url_prefix="/api/v1/outreach")
# CSRF is checked in `_check_csrf` after authentication, so that callers without a session
# cookie (bearer tokens) are not asked for a token and anonymous callers get 401, not 400.
csrf.exempt(bp)

MAX_PER_PAGE = 100
_out = ActivityOutSchema()


def _dump(activity, actor) -> dict:
    data = _out.dump(activity)
    data["can_change"] = permissions.can_change(
        actor, activity, queries.unit_path(activity), services.now()
    )
    return data


def _invalid(errors: dict[str, str], status: int = 400):
    return jsonify(
        error="invalid",
        status=status,
        message=_("Vui lòng sửa các mục được đánh dấu."),
        errors=errors,
    ), status


def _check_csrf():
    """A browser request (cookie session) must carry the page's token in X-CSRFToken."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return None
    if request.headers.get("Authorization"):
        return None  # a header no cross-site form can set: not a cookie-borne request
    try:
        validate_csrf(request.headers.get("X-CSRFToken"))
    except (CSRFError, WTFValidationError):
        return jsonify(error="csrf", status=400, message=_("Hãy tải lại trang rồi gửi lại.")), 400
    return None


@bp.get("")
@roles_required(*permissions.LOGGING_ROLES)
def list_activities():
    actor = current_actor()
    unit_id = int_arg("org_unit_id")
    if unit_id is not None:
        queries.get_commune_or_404(actor, unit_id)
    stmt = queries.visible_activities(
        actor, mine=request.args.get("mine") in ("1", "true"), org_unit_id=unit_id
    )
    per_page = int_arg("per_page", 50, high=MAX_PER_PAGE)
    page = db.paginate(stmt, page=page_arg(), per_page=per_page, error_out=False)
    return jsonify(
        items=[_dump(a, actor) for a in page.items],
        page=page.page,
        pages=page.pages,
        total=page.total,
    )


@bp.post("")
@roles_required(*permissions.LOGGING_ROLES)
def create():
    refusal = _check_csrf()
    if refusal is not None:
        return refusal
    actor = current_actor()
    payload = request.get_json(silent=True)
    if not isinstance(payload, dict):
        return _invalid({"_": _("Dữ liệu gửi lên không phải JSON hợp lệ.")})
    try:
        data = ActivityInSchema().load(payload)
    except ValidationError as exc:
        return _invalid(error_messages(exc.messages))
    if data.get("org_unit_id") is None and actor.has_role(Role.VOLUNTEER):
        data["org_unit_id"] = actor.org_unit_id
    existing = queries.find_by_key(data["idempotency_key"])
    if existing is None:
        queries.get_commune_or_404(actor, data.get("org_unit_id"))
    try:
        activity, created = services.create_activity(
            actor, entry_from(data), data["idempotency_key"], via="api"
        )
    except services.InvalidEntry as exc:
        return _invalid(exc.errors)
    except services.KeyConflict:
        return _invalid({"idempotency_key": _("Mã gửi đã được dùng.")}, 409)
    except services.PermissionDenied:
        deny(actor, "org_unit", str(data.get("org_unit_id")), status=404)
    db.session.commit()
    return jsonify(_dump(activity, actor)), 201 if created else 200


@bp.get("/<int:activity_id>")
@roles_required(*permissions.LOGGING_ROLES)
def read(activity_id: int):
    actor = current_actor()
    return jsonify(_dump(queries.get_activity_or_404(actor, activity_id), actor))


def _register_openapi() -> None:
    from app import openapi
    from app.outreach.vocab import AUDIENCES, FORMS, PLACES, TOPICS

    counts = {
        f"reached_{a}": {"type": "integer", "minimum": 0, "maximum": 100000} for a in AUDIENCES
    }
    entry = {
        "org_unit_id": {"type": "integer", "description": "commune/ward id (volunteers: own)"},
        "held_on": {"type": "string", "format": "date"},
        "form": {"type": "string", "enum": list(FORMS)},
        "place": {"type": "string", "enum": list(PLACES)},
        "topics": {"type": "array", "items": {"type": "string", "enum": list(TOPICS)}},
        **counts,
        "partners_involved": {"type": "string", "maxLength": 200},
        "notes": {"type": "string", "maxLength": 500, "description": "counts only, no names"},
    }
    openapi.register_schema(
        "OutreachActivityInput",
        {
            "type": "object",
            "required": ["idempotency_key", "held_on", "form", "place", "topics"],
            "properties": {
                "idempotency_key": {"type": "string", "pattern": "^[A-Za-z0-9_-]{8,64}$"},
                **entry,
            },
        },
    )
    openapi.register_schema(
        "OutreachActivity",
        {
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "org_unit": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                    },
                },
                **entry,
                "reached_total": {"type": "integer"},
                "created_by_id": {"type": "integer", "nullable": True},
                "created_at": {"type": "string", "format": "date-time"},
                "updated_at": {"type": "string", "format": "date-time"},
                "idempotency_key": {"type": "string"},
                "can_change": {"type": "boolean"},
            },
        },
    )
    ref = {"$ref": "#/components/schemas/OutreachActivity"}
    one = {"content": {"application/json": {"schema": ref}}}
    errors = {
        "400": {"description": "invalid entry: {error, message, errors: {field: message}}"},
        "401": {"description": "not signed in"},
        "403": {"description": "role may not log outreach"},
        "404": {"description": "commune or entry outside the caller's subtree"},
    }
    openapi.register_path(
        "/api/v1/outreach",
        "get",
        {
            "summary": "Outreach activities in the caller's subtree, newest first",
            "tags": ["outreach"],
            "parameters": [
                {"name": n, "in": "query", "schema": {"type": t}}
                for n, t in (
                    ("page", "integer"),
                    ("per_page", "integer"),
                    ("mine", "boolean"),
                    ("org_unit_id", "integer"),
                )
            ],
            "responses": {
                "200": openapi.paged_response("a page of activities", ref),
                **{k: v for k, v in errors.items() if k != "400"},
            },
        },
    )
    openapi.register_path(
        "/api/v1/outreach",
        "post",
        {
            "summary": "Log an activity; a repeated idempotency_key returns the existing entry",
            "description": "Cookie sessions must send the page's CSRF token in X-CSRFToken.",
            "tags": ["outreach"],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {"$ref": "#/components/schemas/OutreachActivityInput"}
                    }
                },
            },
            "responses": {
                "201": {"description": "created", **one},
                "200": {"description": "already logged with this key", **one},
                "409": {"description": "the key belongs to another user's entry"},
                **errors,
            },
        },
    )
    openapi.register_path(
        "/api/v1/outreach/{activity_id}",
        "get",
        {
            "summary": "One outreach activity",
            "tags": ["outreach"],
            "parameters": [
                {
                    "name": "activity_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            ],
            "responses": {
                "200": {"description": "the activity", **one},
                **{k: v for k, v in errors.items() if k != "400"},
            },
        },
    )


_register_openapi()
