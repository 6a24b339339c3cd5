"""JSON shapes of the referral API: what each role may read, what a request must carry."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.referrals.sharing import SHAREABLE_FIELDS
from app.referrals.status import PRIORITIES, ReasonCode, ReferralStatus
from app.web.params import MAX_ID

STATUS_VALUES = [s.value for s in ReferralStatus]
REASON_VALUES = [r.value for r in ReasonCode]
OUTCOME_VALUES = [ReasonCode.SERVICE_RECEIVED.value, ReasonCode.ENROLLED.value]


class ReferralCreateSchema(Schema):
    case_code = fields.String(required=True, validate=validate.Length(1, 40))
    need_id = fields.Integer(required=True, strict=True, validate=validate.Range(1, MAX_ID))
    service_id = fields.UUID(required=True)
    fields_ = fields.List(
        fields.String(validate=validate.OneOf(list(SHAREABLE_FIELDS))),
        data_key="fields",
        load_default=None,
    )
    priority = fields.String(load_default="routine", validate=validate.OneOf(PRIORITIES))
    partner_note = fields.String(load_default=None, validate=validate.Length(max=2000))
    internal_note = fields.String(load_default=None, validate=validate.Length(max=2000))
    hiv_status = fields.String(load_default=None, validate=validate.Length(max=200))
    send = fields.Boolean(load_default=True)


class TransitionSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(STATUS_VALUES))
    reason_code = fields.String(load_default=None, validate=validate.OneOf(REASON_VALUES))
    outcome = fields.String(load_default=None, validate=validate.OneOf(OUTCOME_VALUES))
    service_date = fields.Date(load_default=None)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    verified_by = fields.String(load_default=None, validate=validate.Length(max=200))


class EventSchema(Schema):
    from_status = fields.String(allow_none=True)
    to_status = fields.String()
    occurred_at = fields.DateTime()
    actor_username = fields.String()
    reason_code = fields.String(allow_none=True)
    recorded_by_caseworker = fields.Boolean()
    service_date = fields.Date(allow_none=True)


class PartnerReferralSchema(Schema):
    """A partner's view: status and the shared fields only; nothing once withdrawn."""

    id = fields.Integer()
    partner_reference = fields.String()
    status = fields.String()
    withdrawn = fields.Boolean()
    category = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    service_id = fields.String(allow_none=True)
    sent_at = fields.DateTime(allow_none=True)
    respond_by = fields.Date(allow_none=True)
    reason_code = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    completed_on = fields.Date(allow_none=True)
    shared = fields.Dict(keys=fields.String(), values=fields.String(allow_none=True))
    partner_note = fields.String(allow_none=True)


class CaseworkerReferralSchema(PartnerReferralSchema):
    case_code = fields.String()
    need_id = fields.Integer()
    organization_id = fields.String()
    shared_fields = fields.List(fields.String())
    internal_note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    events = fields.List(fields.Nested(EventSchema))
