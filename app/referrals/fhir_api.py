"""The FHIR R4 API for partners' own systems, at /fhir (FHIR base URL).

A partner organization's bearer token (the same personal API tokens as /api/v1) searches its
Tasks, reads a Task with its ServiceRequest, Patient and Procedure, and answers by PUT or JSON
Patch of the Task. Caseworkers' tokens read the referrals of their scope the same way. Every
refusal is an OperationOutcome in Vietnamese with its English translation. Drafts are never
shown. `/fhir/metadata` (the CapabilityStatement) is public, as FHIR servers publish it.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import Blueprint, jsonify, request
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException

from app.cases.api import authenticate_with_token_only
from app.extensions import csrf, db
from app.i18n import LOCAL_TZ
from app.permissions import (
    PermissionDenied,
    Role,
    current_actor,
    not_found,
    public,
    roles_required,
)
from app.referrals import fhir, fhir_tasks, queries, services
from app.referrals.fhir_capability import capability_statement
from app.referrals.models import Referral
from app.referrals.status import ReferralStatus

bp = Blueprint("fhir", __name__, url_prefix="/fhir")
csrf.exempt(bp)
FHIR_ROLES = (Role.PARTNER, Role.CASEWORKER)
MAX_COUNT = 100
PREFIXES = ("ge", "gt", "le", "lt", "eq")
HTTP_MESSAGES = {
    401: (_l("Cần mã truy cập (Bearer token) hợp lệ."), "login"),
    403: (_l("Không có quyền."), "forbidden"),
    404: (_l("Không tìm thấy tài nguyên."), "not-found"),
    405: (_l("Thao tác không được hỗ trợ."), "not-supported"),
}


@bp.before_request
def authenticate():
    if request.endpoint == "fhir.metadata":
        return None
    authenticate_with_token_only()
    from flask_login import current_user

    if not current_user.is_authenticated:
        return _outcome(*HTTP_MESSAGES[401], status=401)
    return None


def _fhir(body: dict, status: int = 200):
    response = jsonify(body)
    response.status_code = status
    response.mimetype = "application/fhir+json"
    return response


def _outcome(message, code: str, status: int, detail: str = ""):
    return _fhir(fhir_tasks.operation_outcome(message, code, detail), status)


@bp.errorhandler(HTTPException)
def http_error(exc: HTTPException):
    message, code = HTTP_MESSAGES.get(exc.code or 500, (_l("Yêu cầu không hợp lệ."), "invalid"))
    return _outcome(message, code, exc.code or 500)


def _base() -> str:
    return request.url_root + "fhir"


def _referral(referral_id: int) -> Referral:
    """Scoped (404 out of scope, audited), and never a draft."""
    referral = queries.get_referral_or_404(current_actor(), referral_id)
    if referral.status == ReferralStatus.DRAFT:
        not_found(current_actor(), "referral", str(referral_id))
    return referral


@bp.get("/metadata")
@public
def metadata():
    return _fhir(capability_statement(_base()))


# -- search ------------------------------------------------------------------------------------


def _uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _moment(text: str) -> tuple[datetime, datetime] | None:
    """The instant range a FHIR date or dateTime names (a day is its Vietnamese day)."""
    try:
        if len(text) == 10:
            start = datetime.fromisoformat(text).replace(tzinfo=LOCAL_TZ)
            return start, start + timedelta(days=1)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=LOCAL_TZ)
    return moment, moment + timedelta(microseconds=1)


def _last_updated_conditions(values: list[str]) -> list | None:
    """`_lastUpdated` with the prefixes ge, gt, le, lt, eq; None when a value is not a date."""
    conditions, column = [], Referral.updated_at
    for value in values:
        prefix, text = (value[:2], value[2:]) if value[:2] in PREFIXES else ("eq", value)
        bounds = _moment(text)
        if bounds is None:
            return None
        start, end = bounds
        conditions.append(
            {
                "ge": column >= start,
                "gt": column >= end,
                "le": column < end,
                "lt": column < start,
                "eq": sa.and_(column >= start, column < end),
            }[prefix]
        )
    return conditions


def _search_statement(args):
    stmt = queries.visible_referrals(current_actor()).where(
        Referral.status != ReferralStatus.DRAFT.value
    )
    if owner := args.get("owner"):
        org_id = _uuid(owner.removeprefix("Organization/"))
        stmt = stmt.where(Referral.organization_id == org_id if org_id else sa.false())
    if status := args.get("status"):
        stmt = stmt.where(Referral.status.in_(status.split(",")))
    if values := args.getlist("_lastUpdated"):
        conditions = _last_updated_conditions(values)
        if conditions is None:
            return None
        stmt = stmt.where(*conditions)
    return stmt.order_by(Referral.updated_at.desc(), Referral.id.desc())


@bp.get("/Task")
@roles_required(*FHIR_ROLES)
def search_tasks():
    stmt = _search_statement(request.args)
    if stmt is None:
        return _outcome(_l("Giá trị _lastUpdated không hợp lệ."), "invalid", 400)
    count = min(max(request.args.get("_count", 20, type=int), 1), MAX_COUNT)
    offset = max(request.args.get("_offset", 0, type=int), 0)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    referrals = db.session.execute(stmt.limit(count).offset(offset)).scalars().all()
    include_focus = "Task:focus" in request.args.getlist("_include")
    entries = []
    for referral in referrals:
        task = fhir.task_resource(referral)
        entries.append(
            {"fullUrl": fhir.full_url(_base(), task), "resource": task, "search": {"mode": "match"}}
        )
    for referral in referrals if include_focus else ():
        sr = fhir_tasks.read_resource(current_actor(), referral, "ServiceRequest")
        entries.append(
            {"fullUrl": fhir.full_url(_base(), sr), "resource": sr, "search": {"mode": "include"}}
        )
    links = [{"relation": "self", "url": request.url}]
    if offset + count < total:
        args = request.args.to_dict(flat=False)
        args["_offset"] = [str(offset + count)]
        links.append({"relation": "next", "url": _url_with(args)})
    db.session.commit()
    return _fhir(
        {
            "resourceType": "Bundle",
            "type": "searchset",
            "total": total,
            "link": links,
            "entry": entries,
        }
    )


def _url_with(args: dict) -> str:
    from urllib.parse import urlencode

    return f"{request.base_url}?{urlencode(args, doseq=True)}"


# -- read --------------------------------------------------------------------------------------


@bp.get("/<kind>/<int:referral_id>")
@roles_required(*FHIR_ROLES)
def read(kind: str, referral_id: int):
    if kind not in fhir_tasks.READERS:
        return _outcome(*HTTP_MESSAGES[404], status=404)
    referral = _referral(referral_id)
    resource = fhir_tasks.read_resource(current_actor(), referral, kind)
    if resource is None:
        return _outcome(*HTTP_MESSAGES[404], status=404)
    db.session.commit()
    return _fhir(resource)


@bp.get("/Organization/<org_id>")
@roles_required(*FHIR_ROLES)
def read_organization(org_id: str):
    from app.referrals.models import PartnerOrganization

    org_id = _uuid(org_id)
    org = db.session.get(PartnerOrganization, org_id) if org_id else None
    if org is None:
        return _outcome(*HTTP_MESSAGES[404], status=404)
    return _fhir(fhir.partner_organization_resource(org))


# -- update ------------------------------------------------------------------------------------


def _answer(referral_id: int, apply):
    actor = current_actor()
    referral = _referral(referral_id)
    try:
        referral = apply(actor, referral)
    except fhir_tasks.TaskUpdateError as exc:
        db.session.rollback()
        return _outcome(exc.message, exc.code, exc.status, exc.detail)
    except services.InvalidTransition as exc:
        db.session.rollback()
        return _outcome(exc.message, "business-rule", 409, f"{exc.current} -> {exc.target}")
    except services.ReferralError as exc:
        db.session.rollback()
        return _outcome(exc.message, "business-rule", 422)
    except PermissionDenied:
        db.session.rollback()
        return _outcome(*HTTP_MESSAGES[403], status=403)
    db.session.commit()
    return _fhir(fhir.task_resource(referral))


@bp.put("/Task/<int:referral_id>")
@roles_required(*FHIR_ROLES)
def put_task(referral_id: int):
    body = request.get_json(force=True, silent=True)
    return _answer(referral_id, lambda actor, r: fhir_tasks.update_task(actor, r, body))


@bp.patch("/Task/<int:referral_id>")
@roles_required(*FHIR_ROLES)
def patch_task(referral_id: int):
    if request.mimetype != "application/json-patch+json":
        return _outcome(_l("PATCH cần nội dung application/json-patch+json."), "not-supported", 415)
    operations = request.get_json(force=True, silent=True)
    return _answer(referral_id, lambda actor, r: fhir_tasks.patch_task(actor, r, operations))
