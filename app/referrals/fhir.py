"""A referral as HL7 FHIR R4 resources profiled by the Gravity Project's SDOH Clinical Care guide.

One referral is five resources, all built here and nowhere else, so the caseworker's Bundle
export and the partners' FHIR API (`fhir_api.py`) say the same thing:

- `Task` (SDOHCC Task For Referral Management): status, requester, owner, reason, output;
- `ServiceRequest` (SDOHCC ServiceRequest): what is asked, of which SDOH category, for whom;
- `Procedure` (SDOHCC Procedure), only once the service was received: what was delivered, when;
- `Patient`: only what she consented to share with that partner, never the case code;
- `Organization`: the partner (owner/performer, with its HSDS id) and the Women's Union unit
  that sends the referral (requester).

Ids are the referral's own number for the per-referral resources, so `Patient/12` is "the person
of referral 12" and nothing links two referrals of the same case. A draft is the caseworker's own
work and is never exported (`NotExportable`).
"""

from __future__ import annotations

from flask_babel import force_locale

from app.categories import SupportCategory, category_label
from app.referrals.sharing import FIELD_LABELS, shared_view
from app.referrals.status import ReferralStatus, reason_label, status_label

SYSTEM = "https://caunoi.example.vn/fhir"
# Never the case code: the referral's own reference, and the partner's own reference for her
# only when she agreed to be recognised (app/referrals/references.py).
REFERRAL_REFERENCE_SYSTEM = f"{SYSTEM}/referral-reference"
CLIENT_REFERENCE_SYSTEM = f"{SYSTEM}/client-reference"
CATEGORY_SYSTEM = f"{SYSTEM}/CodeSystem/support-category"
REASON_SYSTEM = f"{SYSTEM}/CodeSystem/referral-reason"
SERVICE_SYSTEM = f"{SYSTEM}/hsds/service"
ORG_UNIT_SYSTEM = f"{SYSTEM}/org-unit"
HSDS_ID_SYSTEM = "urn:ietf:rfc:3986"

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
TASK_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForReferralManagement"
SERVICE_REQUEST_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-ServiceRequest"
PROCEDURE_PROFILE = f"{SDOHCC}/StructureDefinition/SDOHCC-Procedure"
SDOHCC_CODES = f"{SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"
TASK_CODE_SYSTEM = "http://hl7.org/fhir/CodeSystem/task-code"
SNOMED = "http://snomed.info/sct"
TRANSLATION_EXTENSION = "http://hl7.org/fhir/StructureDefinition/translation"

# The SDOHCC category (ValueSet SDOHCC-ValueSetSDOHCategory) of each support category, where the
# guide has one. Health care, legal aid, trafficking support and "other" have none: they carry
# the local coding only rather than a wrong SDOH domain.
SDOH_CATEGORY = {
    SupportCategory.VOCATIONAL_TRAINING: ("educational-attainment", "Educational Attainment"),
    SupportCategory.LOANS: ("financial-insecurity", "Financial Insecurity"),
    SupportCategory.JOBS: ("employment-status", "Employment Status"),
    SupportCategory.COUNSELLING: ("stress", "Stress"),
    SupportCategory.SOCIAL_PROTECTION: ("financial-insecurity", "Financial Insecurity"),
    SupportCategory.VIOLENCE_SUPPORT: ("intimate-partner-violence", "Intimate Partner Violence"),
}
# Every referral is a social service; the partner's own service is the second coding.
SOCIAL_SERVICE = {"system": SNOMED, "code": "410606002", "display": "Social service procedure"}
RESULTING_ACTIVITY = {"system": SDOHCC_CODES, "code": "resulting-activity"}

SERVICE_REQUEST_STATUS = {
    "requested": "active",
    "accepted": "active",
    "in-progress": "active",
    "on-hold": "on-hold",
    "completed": "completed",
    "rejected": "revoked",
    "cancelled": "revoked",
    "failed": "revoked",
    "entered-in-error": "entered-in-error",
}
PRIORITY = {"routine": "routine", "urgent": "urgent", "asap": "asap"}
# The statuses whose reason the guide asks to state (Task.statusReason.text).
REASONED_STATUSES = frozenset(
    {
        ReferralStatus.REJECTED,
        ReferralStatus.CANCELLED,
        ReferralStatus.FAILED,
        ReferralStatus.ON_HOLD,
    }
)


class NotExportable(Exception):
    """A draft: never leaves Cầu Nối."""


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _clean(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v not in (None, "", [], {})}


def _vi(label) -> str:
    """Texts in exported resources are Vietnamese whatever the caller's language."""
    with force_locale("vi"):
        return str(label)


def check_exportable(referral) -> None:
    if referral.status == ReferralStatus.DRAFT:
        raise NotExportable


def partner_org_id(referral) -> str:
    return str(referral.organization_id)


def requester_org_id(referral) -> str:
    return f"unit-{referral.case.org_unit.code}"


def category_concept(category: str) -> dict:
    """The SDOHCC category where one exists, the local support category always."""
    coding = []
    if category in SDOH_CATEGORY:
        code, display = SDOH_CATEGORY[SupportCategory(category)]
        coding.append({"system": SDOHCC_CODES, "code": code, "display": display})
    coding.append(
        {"system": CATEGORY_SYSTEM, "code": category, "display": _vi(category_label(category))}
    )
    return {"coding": coding, "text": _vi(category_label(category))}


def service_concept(referral) -> dict:
    service = referral.service
    return {
        "coding": [
            SOCIAL_SERVICE,
            {"system": SERVICE_SYSTEM, "code": str(service.id), "display": service.name},
        ],
        "text": service.name,
    }


def _org_ref(referral) -> dict:
    return {
        "reference": f"Organization/{partner_org_id(referral)}",
        "display": referral.organization.name,
        "identifier": {"system": HSDS_ID_SYSTEM, "value": f"urn:uuid:{referral.organization_id}"},
    }


def _requester_ref(referral) -> dict:
    return {
        "reference": f"Organization/{requester_org_id(referral)}",
        "display": requester_name(referral),
    }


def requester_name(referral) -> str:
    return f"Hội Liên hiệp Phụ nữ {referral.case.org_unit.name}"


def _meta(profile: str | None, referral) -> dict:
    return _clean(
        {"profile": [profile] if profile else None, "lastUpdated": _iso(referral.updated_at)}
    )


def patient_resource(referral) -> dict:
    check_exportable(referral)
    view = shared_view(referral)
    values = view.values
    return _clean(
        {
            "resourceType": "Patient",
            "id": str(referral.id),
            "identifier": [
                {"system": REFERRAL_REFERENCE_SYSTEM, "value": referral.partner_reference},
                *(
                    [{"system": CLIENT_REFERENCE_SYSTEM, "value": values["client_ref"]}]
                    if values.get("client_ref")
                    else []
                ),
            ],
            "name": [{"text": values["preferred_name"]}] if values.get("preferred_name") else None,
            "telecom": [{"system": "phone", "value": values["phone"]}]
            if values.get("phone")
            else None,
        }
    )


def _notes(referral) -> list[dict]:
    view = shared_view(referral)
    notes = [
        {"text": f"{_vi(FIELD_LABELS[name])}: {value}"}
        for name, value in view.values.items()
        if name in ("health_details", "hiv_status", "violence_details", "need") and value
    ]
    if view.note:
        notes.append({"text": view.note})
    return notes


def service_request_resource(referral) -> dict:
    check_exportable(referral)
    return _clean(
        {
            "resourceType": "ServiceRequest",
            "id": str(referral.id),
            "meta": _meta(SERVICE_REQUEST_PROFILE, referral),
            "status": SERVICE_REQUEST_STATUS[referral.status],
            "intent": "order",
            "priority": PRIORITY.get(referral.priority),
            "category": [category_concept(referral.category)],
            "code": service_concept(referral),
            "subject": {"reference": f"Patient/{referral.id}"},
            "authoredOn": _iso(referral.sent_at or referral.created_at),
            "requester": _requester_ref(referral),
            "performer": [_org_ref(referral)],
            "note": _notes(referral),
        }
    )


def status_reason(referral) -> dict | None:
    """Every stated reason has its text (SDOHCC: statusReason.text 1..1)."""
    status = ReferralStatus(referral.status)
    if status not in REASONED_STATUSES or not referral.reason_code:
        return None
    text = _vi(reason_label(referral.reason_code))
    return {
        "coding": [{"system": REASON_SYSTEM, "code": referral.reason_code, "display": text}],
        "text": text,
    }


def business_status(referral) -> dict:
    coding = None
    if referral.status == ReferralStatus.COMPLETED and referral.outcome:
        coding = [
            {
                "system": REASON_SYSTEM,
                "code": referral.outcome,
                "display": _vi(reason_label(referral.outcome)),
            }
        ]
    return _clean({"coding": coding, "text": _vi(status_label(referral.status))})


def task_resource(referral) -> dict:
    check_exportable(referral)
    status = ReferralStatus(referral.status)
    output = None
    if status is ReferralStatus.COMPLETED:
        output = [
            {
                "type": {"coding": [RESULTING_ACTIVITY]},
                "valueReference": {"reference": f"Procedure/{referral.id}"},
            }
        ]
    return _clean(
        {
            "resourceType": "Task",
            "id": str(referral.id),
            "meta": _meta(TASK_PROFILE, referral),
            "status": status.value,
            "statusReason": status_reason(referral),
            "businessStatus": business_status(referral),
            "intent": "order",
            "priority": PRIORITY.get(referral.priority),
            "code": {"coding": [{"system": TASK_CODE_SYSTEM, "code": "fulfill"}]},
            "focus": {"reference": f"ServiceRequest/{referral.id}"},
            "for": {"reference": f"Patient/{referral.id}"},
            "authoredOn": _iso(referral.sent_at or referral.created_at),
            "lastModified": _iso(referral.updated_at),
            "requester": _requester_ref(referral),
            "owner": _org_ref(referral),
            "restriction": {"period": {"end": _iso(referral.respond_by)}}
            if referral.respond_by
            else None,
            "output": output,
        }
    )


def procedure_resource(referral) -> dict | None:
    """The service delivered: only for a referral completed with its service date."""
    check_exportable(referral)
    if referral.status != ReferralStatus.COMPLETED:
        return None
    outcome = business_status(referral).get("coding")
    return _clean(
        {
            "resourceType": "Procedure",
            "id": str(referral.id),
            "meta": _meta(PROCEDURE_PROFILE, referral),
            "basedOn": [{"reference": f"ServiceRequest/{referral.id}"}],
            "status": "completed",
            "category": {
                "coding": [
                    SOCIAL_SERVICE,
                    *category_concept(referral.category)["coding"],
                ]
            },
            "code": service_concept(referral),
            "subject": {"reference": f"Patient/{referral.id}"},
            "performedDateTime": _iso(referral.completed_on),
            "performer": [{"actor": _org_ref(referral)}],
            "outcome": {"coding": outcome} if outcome else None,
        }
    )


def partner_organization_resource(org) -> dict:
    return _clean(
        {
            "resourceType": "Organization",
            "id": str(org.id),
            "identifier": [{"system": HSDS_ID_SYSTEM, "value": f"urn:uuid:{org.id}"}],
            "active": True,
            "name": org.name,
            "alias": [org.alternate_name] if org.alternate_name else None,
            "telecom": [
                t
                for t in (
                    {"system": "email", "value": org.email} if org.email else None,
                    {"system": "url", "value": org.website} if org.website else None,
                )
                if t
            ],
        }
    )


def requester_organization_resource(referral) -> dict:
    unit = referral.case.org_unit
    return {
        "resourceType": "Organization",
        "id": requester_org_id(referral),
        "identifier": [{"system": ORG_UNIT_SYSTEM, "value": unit.code}],
        "active": True,
        "name": requester_name(referral),
    }


def referral_resources(referral) -> list[dict]:
    """Task first, then what it points to, each once."""
    check_exportable(referral)
    resources = [
        task_resource(referral),
        service_request_resource(referral),
        patient_resource(referral),
        procedure_resource(referral),
        partner_organization_resource(referral.organization),
        requester_organization_resource(referral),
    ]
    return [r for r in resources if r is not None]


def full_url(base: str, resource: dict) -> str:
    return f"{base.rstrip('/')}/{resource['resourceType']}/{resource['id']}"


def referral_bundle(referral, base: str = SYSTEM) -> dict:
    """A collection Bundle of the referral's resources (the caseworker's export)."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": full_url(base, r), "resource": r} for r in referral_resources(referral)
        ],
    }
