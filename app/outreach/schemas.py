"""JSON shapes of the outreach API (marshmallow). Messages are the users' language."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from marshmallow import EXCLUDE, Schema, fields, validate

from app.outreach.forms import KEY_PATTERN
from app.outreach.services import Entry
from app.outreach.vocab import AUDIENCES
from app.web.params import MAX_ID

_COUNT = {"invalid": _l("Số người phải là số nguyên không âm.")}
_REQUIRED = _l("Thiếu thông tin bắt buộc.")


def _count():
    return fields.Integer(load_default=None, allow_none=True, strict=True, error_messages=_COUNT)


class ActivityInSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    idempotency_key = fields.String(
        required=True,
        validate=validate.Regexp(KEY_PATTERN, error=_l("Mã gửi không hợp lệ.")),
        error_messages={"required": _REQUIRED},
    )
    org_unit_id = fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=validate.Range(1, MAX_ID)
    )
    held_on = fields.Date(
        required=True,
        error_messages={"required": _REQUIRED, "invalid": _l("Ngày không hợp lệ (yyyy-mm-dd).")},
    )
    form = fields.String(required=True, error_messages={"required": _REQUIRED})
    place = fields.String(required=True, error_messages={"required": _REQUIRED})
    topics = fields.List(fields.String(), load_default=list)
    reached_business_workers = _count()
    reached_industrial_workers = _count()
    reached_students = _count()
    reached_wu_members = _count()
    reached_public = _count()
    reached_high_risk = _count()
    partners_involved = fields.String(load_default="", allow_none=True)
    notes = fields.String(load_default="", allow_none=True)


def entry_from(data: dict) -> Entry:
    return Entry(
        org_unit_id=data.get("org_unit_id"),
        held_on=data["held_on"],
        form=data["form"],
        place=data["place"],
        topics=list(data.get("topics") or []),
        reached={code: data.get(f"reached_{code}") for code in AUDIENCES},
        partners_involved=data.get("partners_involved") or "",
        notes=data.get("notes") or "",
    )


class OrgUnitRefSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()


class ActivityOutSchema(Schema):
    id = fields.Integer()
    org_unit_id = fields.Integer()
    org_unit = fields.Nested(OrgUnitRefSchema)
    held_on = fields.Date()
    form = fields.String()
    place = fields.String()
    topics = fields.List(fields.String())
    reached_business_workers = fields.Integer()
    reached_industrial_workers = fields.Integer()
    reached_students = fields.Integer()
    reached_wu_members = fields.Integer()
    reached_public = fields.Integer()
    reached_high_risk = fields.Integer()
    reached_total = fields.Integer()
    partners_involved = fields.String()
    notes = fields.String()
    created_by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()
    updated_at = fields.DateTime()
    idempotency_key = fields.String()


def error_messages(messages) -> dict[str, str]:
    """marshmallow's nested error lists -> {field: first message as text}."""
    flat = {}
    for name, value in messages.items():
        while isinstance(value, list | dict):
            value = next(iter(value.values() if isinstance(value, dict) else value), "")
        flat[name] = str(value)
    return flat
