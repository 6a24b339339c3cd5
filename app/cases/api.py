"""JSON API under /api/v1/: cases and needs within the caller's scope.

Authentication is a personal bearer token only (`Authorization: Bearer <token>`); the session
cookie is never used for /api/, so CSRF does not apply and the blueprint is exempt.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, g, jsonify, request
from flask_babel import gettext as _
from marshmallow import ValidationError

from app import openapi
from app.cases import consents as cons
from app.cases import permissions as perms
from app.cases import queries, schemas, services, tokens
from app.cases.fields import display_name, read_fields
from app.cases.models import IDENTIFYING_FIELDS, Case, CaseStatus
from app.cases.unreadable import report_unreadable, unreadable_name
from app.extensions import csrf, db, login_manager
from app.orgs.models import OrgUnit
from app.permissions import ALL_ROLES, current_actor, deny, is_api_path, public, roles_required
from app.web.params import MAX_ID, int_arg

# A case id the page starts after or before.
KEYSET_CURSOR = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

bp = Blueprint("cases_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


def _bearer_user():
    """The user of the request's bearer token, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _sep, value = header.partition(" ")
    token = value.strip() if scheme.lower() == "bearer" else ""
    return tokens.user_for_token(token) if token else None


@login_manager.request_loader
def load_user_from_bearer(req):
    """Bearer tokens authenticate API requests only."""
    if not is_api_path(req.path):
        return None
    return _bearer_user()


@bp.before_request
def authenticate_with_token_only():
    # Never the cookie for /api/: whoever the session names, only the token decides.
    g.pop("actor", None)
    login_manager._update_request_context_with_user(_bearer_user())


def _error(message: str, status: int, **extra):
    return jsonify(error=message, status=status, **extra), status


def _summary(case: Case, unreadable: list[str]) -> dict:
    """A list row; a case that does not decrypt says so and is added to `unreadable`."""
    seen = len(unreadable)
    name = unreadable_name(lambda: display_name(case), case.code, unreadable)
    return {
        "code": case.code,
        "status": case.status,
        "org_unit": case.org_unit.code,
        "opened_on": case.opened_on,
        "name": name,
        "is_restricted": case.is_restricted,
        "is_erased": case.is_erased,
        "is_unreadable": len(unreadable) > seen,
    }


def _full(actor, case: Case) -> dict:
    fields = perms.visible_fields(actor)
    data = read_fields(case, fields) if not case.is_erased else dict.fromkeys(fields)
    data.update(
        code=case.code,
        status=case.status,
        closed_reason=case.closed_reason,
        org_unit=case.org_unit.code,
        opened_on=case.opened_on,
        assigned_to=case.assigned_to.username if case.assigned_to else None,
        birth_year_band=case.birth_year_band,
        reached_via=case.reached_via,
        is_minor=case.is_minor,
        is_restricted=case.is_restricted,
        is_erased=case.is_erased,
        consents_in_force=[
            p for p in cons.purposes_in_force(case) if perms.shows_purpose(actor, p)
        ],
        needs=perms.visible_needs(actor, case),
    )
    return schemas.case_schema_for(actor.role).dump(data)


def _load_json(schema):
    try:
        return schema.load(request.get_json(silent=True) or {}), None
    except ValidationError as exc:
        return None, _error(_("Dữ liệu không hợp lệ."), 400, fields=exc.messages)


@bp.get("/cases")
@roles_required(*perms.CASE_ROLES)
def list_cases():
    actor = current_actor()
    status = request.args.get("status")
    page, cases = queries.list_page_cases(
        queries.filtered_cases(actor, status=status if status in set(CaseStatus) else None),
        units=queries.scope_units(actor),
        after=int_arg("after"),
        before=int_arg("before"),
    )
    unreadable: list[str] = []
    items = schemas.CaseSummarySchema(many=True).dump([_summary(c, unreadable) for c in cases])
    services.record_list_view(actor, cases, via="api")
    report_unreadable(actor, unreadable, via="api")
    db.session.commit()
    return jsonify(
        items=items,
        total=page.total,
        total_is_capped=page.is_capped,
        next_after=page.next_after,
        prev_before=page.prev_before,
    )


@bp.post("/cases/search")
@roles_required(*perms.CASE_ROLES)
def search_cases():
    actor = current_actor()
    data, error = _load_json(schemas.SearchInSchema())
    if error:
        return error
    cases = queries.search_cases(actor, data["q"])
    unreadable: list[str] = []
    items = schemas.CaseSummarySchema(many=True).dump([_summary(c, unreadable) for c in cases])
    services.record_list_view(actor, cases, via="api_search")
    report_unreadable(actor, unreadable, via="api_search")
    db.session.commit()
    return jsonify(items=items)


@bp.get("/cases/<code>")
@roles_required(*ALL_ROLES)
def read_case(code: str):
    actor = current_actor()
    case = queries.get_case_or_404(actor, code)
    body = _full(actor, case)
    services.record_view(actor, case, via="api")
    db.session.commit()
    return jsonify(body)


@bp.post("/cases")
@roles_required(*perms.CASE_ROLES)
def create_case():
    actor = current_actor()
    data, error = _load_json(schemas.CaseInSchema())
    if error:
        return error
    unit = db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == data["org_unit"])).scalar()
    sensitive = perms.sees_sensitive(actor)
    intake = services.Intake(
        org_unit_id=unit.id if unit else -1,
        consent=services.ConsentGiven(**data["consent"]),
        **{f: data[f] for f in (*IDENTIFYING_FIELDS, "reached_via")},
        health_details=data["health_details"] if sensitive else None,
        violence_details=data["violence_details"] if sensitive else None,
        needs=[(n["category"], n["priority"]) for n in data["needs"]],
    )
    try:
        case = services.open_case(actor, intake)
    except services.CaseError as exc:
        db.session.rollback()
        return _error(str(exc.message), 400, field=exc.field_name)
    db.session.commit()
    return jsonify(code=case.code), 201


@bp.get("/cases/<code>/needs")
@roles_required(*ALL_ROLES)
def list_needs(code: str):
    actor = current_actor()
    case = queries.get_case_or_404(actor, code)
    return jsonify(items=schemas.NeedSchema(many=True).dump(perms.visible_needs(actor, case)))


@bp.post("/cases/<code>/needs")
@roles_required(*ALL_ROLES)
def create_need(code: str):
    actor = current_actor()
    case = queries.get_case_or_404(actor, code)
    if not perms.can_manage(actor, case):
        deny(actor, "case", case.code)
    data, error = _load_json(schemas.NeedInSchema())
    if error:
        return error
    try:
        need = services.add_need(actor, case, data["category"], data["priority"])
    except services.CaseError as exc:
        db.session.rollback()
        return _error(str(exc.message), 400, field=exc.field_name)
    db.session.commit()
    return jsonify(schemas.NeedSchema().dump(need)), 201


@bp.get("/openapi.json", endpoint="openapi")
@public
def openapi_document():
    """The merged OpenAPI 3 document of every module's API (public: it holds no data)."""
    return jsonify(openapi.document())


def _items(item: dict) -> dict:
    return {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": item}},
    }


def _register_openapi() -> None:
    ref = {"$ref": "#/components/schemas/Case"}
    err = {"description": "Not found or outside your scope"}
    code = [{"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}]
    summary = openapi.body_of(schemas.CaseSummarySchema)
    need = openapi.body_of(schemas.NeedSchema)
    openapi.register_schema("Case", openapi.body_of(schemas.CaseSchema))
    openapi.register_schema(
        "CaseIn",
        {
            "type": "object",
            "required": ["org_unit", "consent", "full_name"],
            "properties": {n: {"type": "string"} for n in schemas.CaseInSchema().fields},
        },
    )
    openapi.register_path(
        "/api/v1/cases",
        "get",
        {
            "summary": "Cases in your scope, newest first, 25 per page (names decrypted; "
            "audited). Pages follow by keyset: pass a page's next_after as `after` (older "
            "cases) or its prev_before as `before` (newer); cases opened meanwhile never shift "
            "a page. `total` counts up to 1,000 (total_is_capped: more).",
            "parameters": [
                *(
                    {"name": name, "in": "query", "schema": KEYSET_CURSOR}
                    for name in ("after", "before")
                ),
                {"name": "status", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {
                "200": openapi.json_response(
                    "A page of case summaries",
                    {
                        "type": "object",
                        "properties": {
                            "items": {"type": "array", "items": summary},
                            "total": {"type": "integer"},
                            "total_is_capped": {"type": "boolean"},
                            "next_after": {"type": "integer", "nullable": True},
                            "prev_before": {"type": "integer", "nullable": True},
                        },
                    },
                )
            },
        },
    )
    openapi.register_path(
        "/api/v1/cases",
        "post",
        {
            "summary": "Open a case (consent to record required)",
            "requestBody": {
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CaseIn"}}}
            },
            "responses": {
                "201": openapi.json_response(
                    "Created; body holds the case code",
                    {"type": "object", "properties": {"code": {"type": "string"}}},
                ),
                "400": {"description": "Invalid input or no consent to record"},
            },
        },
    )
    openapi.register_path(
        "/api/v1/cases/search",
        "post",
        {
            "summary": (
                "Search by case code, by whole words of a name (with or without diacritics), "
                "phone or ID number"
            ),
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"q": {"type": "string"}}}
                    }
                }
            },
            "responses": {"200": openapi.json_response("Matching case summaries", _items(summary))},
        },
    )
    openapi.register_path(
        "/api/v1/cases/{code}",
        "get",
        {
            "summary": "Read one case (audited)",
            "parameters": code,
            "responses": {
                "200": {
                    "description": "The case",
                    "content": {"application/json": {"schema": ref}},
                },
                "404": err,
            },
        },
    )
    openapi.register_path(
        "/api/v1/cases/{code}/needs",
        "get",
        {
            "summary": "Needs of a case",
            "parameters": code,
            "responses": {"200": openapi.json_response("Needs", _items(need)), "404": err},
        },
    )
    openapi.register_path(
        "/api/v1/cases/{code}/needs",
        "post",
        {
            "summary": "Add a need (caseworkers)",
            "parameters": code,
            "responses": {"201": openapi.json_response("The need", need), "404": err},
        },
    )


_register_openapi()
