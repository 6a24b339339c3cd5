"""A referral as HL7 FHIR R4 (structurally R4B-valid): a Bundle of Task + ServiceRequest.

Only what the partner may see goes in: the fields shared with consent in force now (the same
`shared_view` the partner page uses), plus the referral's own status and dates. Once sharing
has stopped, the Patient carries nothing at all.
"""

from __future__ import annotations

import uuid

from app.categories import category_label
from app.referrals.sharing import FIELD_LABELS, shared_view
from app.referrals.status import ReferralStatus

SYSTEM = "https://caunoi.example.vn/fhir"
# Never the case code: the referral's own reference, and the partner's own reference for her
# only when she agreed to be recognised (app/referrals/references.py).
REFERRAL_REFERENCE_SYSTEM = f"{SYSTEM}/referral-reference"
CLIENT_REFERENCE_SYSTEM = f"{SYSTEM}/client-reference"
CATEGORY_SYSTEM = f"{SYSTEM}/CodeSystem/support-category"
REASON_SYSTEM = f"{SYSTEM}/CodeSystem/referral-reason"
ORG_SYSTEM = "urn:ietf:rfc:3986"
NAMESPACE = uuid.UUID("0b8f3c52-6a0e-4b8b-9a57-7a5f2a40c1d3")

SERVICE_REQUEST_STATUS = {
    "draft": "draft",
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


def _urn(referral, kind: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}:{referral.id}')}"


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def _clean(obj: dict) -> dict:
    return {k: v for k, v in obj.items() if v not in (None, "", [], {})}


def referral_bundle(referral) -> dict:
    view = shared_view(referral)
    values = view.values
    patient_url, request_url, task_url = (
        _urn(referral, "patient"),
        _urn(referral, "service-request"),
        _urn(referral, "task"),
    )
    patient = _clean(
        {
            "resourceType": "Patient",
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
    notes = [
        {"text": f"{FIELD_LABELS[name]}: {value}"}
        for name, value in values.items()
        if name in ("health_details", "hiv_status", "violence_details", "need") and value
    ]
    if view.note:
        notes.append({"text": view.note})
    category = {
        "coding": [
            {
                "system": CATEGORY_SYSTEM,
                "code": referral.category,
                "display": category_label(referral.category),
            }
        ]
    }
    organization = {
        "display": referral.organization.name,
        "identifier": {"system": ORG_SYSTEM, "value": f"urn:uuid:{referral.organization_id}"},
    }
    service_request = _clean(
        {
            "resourceType": "ServiceRequest",
            "status": SERVICE_REQUEST_STATUS[referral.status],
            "intent": "order",
            "priority": PRIORITY.get(referral.priority),
            "category": [category],
            "code": {"text": referral.service.name},
            "subject": {"reference": patient_url},
            "authoredOn": _iso(referral.sent_at or referral.created_at),
            "performer": [organization],
            "note": notes,
        }
    )
    status = ReferralStatus(referral.status)
    reason = None
    if referral.reason_code and status is not ReferralStatus.COMPLETED:
        reason = {"coding": [{"system": REASON_SYSTEM, "code": referral.reason_code}]}
    output = None
    if status is ReferralStatus.COMPLETED:
        output = [
            {
                "type": {"coding": [{"system": REASON_SYSTEM, "code": referral.outcome}]},
                "valueDate": _iso(referral.completed_on),
            }
        ]
    task = _clean(
        {
            "resourceType": "Task",
            "status": status.value,
            "intent": "order",
            "priority": PRIORITY.get(referral.priority),
            "code": {
                "coding": [
                    {"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}
                ]
            },
            "focus": {"reference": request_url},
            "for": {"reference": patient_url},
            "authoredOn": _iso(referral.created_at),
            "lastModified": _iso(referral.updated_at),
            "owner": organization,
            "statusReason": reason,
            "restriction": {"period": {"end": _iso(referral.respond_by)}}
            if referral.respond_by
            else None,
            "output": output,
        }
    )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": task_url, "resource": task},
            {"fullUrl": request_url, "resource": service_request},
            {"fullUrl": patient_url, "resource": patient},
        ],
    }
