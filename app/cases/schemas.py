"""JSON shapes of the case API, with the field list each role may see."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.cases import consents as cons
from app.cases.models import SENSITIVE_FIELDS, ConsentMethod, NeedPriority, ReachedVia
from app.categories import SupportCategory
from app.permissions import Role

CATEGORIES = [c.value for c in SupportCategory]


class NeedSchema(Schema):
    id = fields.Int()
    category = fields.Str()
    priority = fields.Str()
    status = fields.Str()
    identified_on = fields.Date()
    closed_on = fields.Date(allow_none=True)


class CaseSummarySchema(Schema):
    code = fields.Str()
    status = fields.Str()
    org_unit = fields.Str()
    opened_on = fields.Date()
    name = fields.Str(allow_none=True)
    is_restricted = fields.Bool()
    is_erased = fields.Bool()
    # The case's ciphertext does not open: `name` says so, and the admins were told.
    is_unreadable = fields.Bool()


class CaseSchema(Schema):
    code = fields.Str()
    status = fields.Str()
    closed_reason = fields.Str(allow_none=True)
    org_unit = fields.Str()
    opened_on = fields.Date()
    assigned_to = fields.Str(allow_none=True)
    birth_year_band = fields.Str(allow_none=True)
    reached_via = fields.Str()
    is_minor = fields.Bool()
    is_restricted = fields.Bool()
    is_erased = fields.Bool()
    full_name = fields.Str(allow_none=True)
    other_names = fields.Str(allow_none=True)
    preferred_name = fields.Str(allow_none=True)
    date_of_birth = fields.Str(allow_none=True)
    phone = fields.Str(allow_none=True)
    address = fields.Str(allow_none=True)
    id_number = fields.Str(allow_none=True)
    health_details = fields.Str(allow_none=True)
    violence_details = fields.Str(allow_none=True)
    consents_in_force = fields.List(fields.Str())
    needs = fields.List(fields.Nested(NeedSchema))


_ALL_CASE_FIELDS = tuple(CaseSchema().fields)
# Field lists per role: volunteers never receive health or violence details.
CASE_FIELDS_BY_ROLE = {
    Role.CASEWORKER: _ALL_CASE_FIELDS,
    Role.VOLUNTEER: tuple(f for f in _ALL_CASE_FIELDS if f not in SENSITIVE_FIELDS),
}


def case_schema_for(role) -> CaseSchema:
    return CaseSchema(only=CASE_FIELDS_BY_ROLE[Role(role)])


class ConsentInSchema(Schema):
    purposes = fields.List(fields.Str(validate=validate.OneOf(cons.ALL_PURPOSES)), required=True)
    method = fields.Str(required=True, validate=validate.OneOf([m.value for m in ConsentMethod]))
    given_by = fields.Str(load_default="self", validate=validate.OneOf(["self", "guardian"]))
    guardian_relation = fields.Str(
        load_default=None, allow_none=True, validate=validate.Length(max=60)
    )


class NeedInSchema(Schema):
    category = fields.Str(required=True, validate=validate.OneOf(CATEGORIES))
    priority = fields.Str(
        load_default=NeedPriority.NORMAL.value,
        validate=validate.OneOf([p.value for p in NeedPriority]),
    )


class CaseInSchema(Schema):
    org_unit = fields.Str(required=True, validate=validate.Length(max=20))
    consent = fields.Nested(ConsentInSchema, required=True)
    full_name = fields.Str(required=True, validate=validate.Length(min=1, max=120))
    other_names = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=200))
    preferred_name = fields.Str(
        load_default=None, allow_none=True, validate=validate.Length(max=60)
    )
    date_of_birth = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=10))
    phone = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=20))
    address = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=300))
    id_number = fields.Str(load_default=None, allow_none=True, validate=validate.Length(max=20))
    health_details = fields.Str(
        load_default=None, allow_none=True, validate=validate.Length(max=2000)
    )
    violence_details = fields.Str(
        load_default=None, allow_none=True, validate=validate.Length(max=2000)
    )
    reached_via = fields.Str(
        load_default=ReachedVia.OTHER.value, validate=validate.OneOf([r.value for r in ReachedVia])
    )
    needs = fields.List(fields.Nested(NeedInSchema), load_default=list)


class SearchInSchema(Schema):
    q = fields.Str(required=True, validate=validate.Length(min=1, max=120))
