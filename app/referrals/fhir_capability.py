"""The CapabilityStatement of the partners' FHIR API: what `fhir_api.py` actually serves."""

from __future__ import annotations

from app.referrals import fhir

SEARCH_PARAMS = [
    {
        "name": "owner",
        "type": "reference",
        "documentation": "Organization/<HSDS organization id>",
    },
    {"name": "status", "type": "token", "documentation": "Task.status, comma-separated"},
    {"name": "_lastUpdated", "type": "date", "documentation": "prefixes ge, gt, le, lt, eq"},
    {"name": "_count", "type": "number", "documentation": "page size, at most 100"},
    {"name": "_offset", "type": "number", "documentation": "paging (Bundle.link next)"},
]


def _read_only(kind: str, profile: str | None = None) -> dict:
    resource = {"type": kind, "interaction": [{"code": "read"}]}
    if profile:
        resource["supportedProfile"] = [profile]
    return resource


def capability_statement(base: str) -> dict:
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": "2026-12-04",
        "publisher": "Cầu Nối",
        "kind": "instance",
        "implementation": {
            "description": "Cầu Nối: chuyển gửi dịch vụ hỗ trợ (FHIR, Gravity SDOH Clinical Care)",
            "url": base,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "documentation": "Bearer token of a Cầu Nối user (partner or caseworker), from "
                "the page 'Mã truy cập API'. Partners see the referrals sent to their "
                "organization; drafts are never shown.",
                "security": {
                    "description": "Authorization: Bearer <token>; refusals are "
                    "OperationOutcome (vi, with an English translation)."
                },
                "resource": [
                    {
                        "type": "Task",
                        "supportedProfile": [fhir.TASK_PROFILE],
                        "interaction": [
                            {"code": "read"},
                            {"code": "search-type"},
                            {
                                "code": "update",
                                "documentation": "Only status, statusReason, businessStatus "
                                "and output (with a contained Procedure) may change, along "
                                "the referral transition table.",
                            },
                            {"code": "patch", "documentation": "JSON Patch, same rules"},
                        ],
                        "updateCreate": False,
                        "searchInclude": ["Task:focus"],
                        "searchParam": SEARCH_PARAMS,
                    },
                    _read_only("ServiceRequest", fhir.SERVICE_REQUEST_PROFILE),
                    _read_only("Procedure", fhir.PROCEDURE_PROFILE),
                    _read_only("Patient"),
                    _read_only("Organization"),
                ],
            }
        ],
    }
