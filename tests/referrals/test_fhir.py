"""The referral as Gravity SDOH Clinical Care resources: one test per profile rule implemented."""

from __future__ import annotations

import pytest
from fhir.resources.R4B.bundle import Bundle

from app.cases.tokens import create_api_token
from app.extensions import db
from app.referrals import fhir, services
from app.referrals.status import REASON_LABELS, ReasonCode, local_today
from tests.conftest import audit_actions
from tests.referrals.conftest import actor

SDOHCC = "http://hl7.org/fhir/us/sdoh-clinicalcare"
TEMP_CODES = f"{SDOHCC}/CodeSystem/SDOHCC-CodeSystemTemporaryCodes"


def _sent(loop, world, fields=("need",), note="Đến buổi sáng"):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(
        cw, loop.case, loop.need, loop.hiv_testing, fields=list(fields), partner_note=note
    )
    services.send_referral(cw, referral)
    return referral


def _completed(loop, world, **kwargs):
    referral = _sent(loop, world, **kwargs)
    services.transition(actor(loop.partner), referral, "accepted")
    services.transition(
        actor(loop.partner),
        referral,
        "completed",
        services.TransitionInput(outcome="enrolled", service_date=local_today()),
    )
    return referral


def _by_type(bundle: dict) -> dict[str, dict]:
    return {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}


def _resolve(bundle: dict, reference: str) -> dict:
    """A relative reference resolves to the entry whose fullUrl ends with it (FHIR rules)."""
    matches = [e["resource"] for e in bundle["entry"] if e["fullUrl"].endswith("/" + reference)]
    assert len(matches) == 1, reference
    return matches[0]


@pytest.fixture
def completed_bundle(loop, world):
    referral = _completed(loop, world)
    db.session.commit()
    return referral, fhir.referral_bundle(referral, "https://caunoi.test/fhir")


def test_bundle_parses_as_r4b(completed_bundle):
    _referral, bundle = completed_bundle
    parsed = Bundle.model_validate(bundle)
    kinds = [e.resource.get_resource_type() for e in parsed.entry]
    assert kinds == [
        "Task",
        "ServiceRequest",
        "Patient",
        "Procedure",
        "Organization",
        "Organization",
    ]


def test_meta_profile_on_task_service_request_procedure(completed_bundle):
    _referral, bundle = completed_bundle
    r = _by_type(bundle)
    assert r["Task"]["meta"]["profile"] == [
        f"{SDOHCC}/StructureDefinition/SDOHCC-TaskForReferralManagement"
    ]
    assert r["ServiceRequest"]["meta"]["profile"] == [
        f"{SDOHCC}/StructureDefinition/SDOHCC-ServiceRequest"
    ]
    assert r["Procedure"]["meta"]["profile"] == [f"{SDOHCC}/StructureDefinition/SDOHCC-Procedure"]


def test_task_fixed_intent_code_and_required_elements(completed_bundle):
    _referral, bundle = completed_bundle
    task = _by_type(bundle)["Task"]
    assert task["intent"] == "order"
    assert task["code"]["coding"] == [
        {"system": "http://hl7.org/fhir/CodeSystem/task-code", "code": "fulfill"}
    ]
    assert task["authoredOn"]
    # focus 1..1 -> the SDOHCC ServiceRequest; for 1..1 -> the Patient
    assert _resolve(bundle, task["focus"]["reference"])["resourceType"] == "ServiceRequest"
    assert _resolve(bundle, task["for"]["reference"])["resourceType"] == "Patient"


def test_requester_is_the_womens_union_organization_on_task_and_service_request(
    completed_bundle, world
):
    referral, bundle = completed_bundle
    r = _by_type(bundle)
    for resource in (r["Task"], r["ServiceRequest"]):
        requester = _resolve(bundle, resource["requester"]["reference"])
        assert requester["resourceType"] == "Organization"
        assert requester["name"].startswith("Hội Liên hiệp Phụ nữ")
        assert requester["identifier"][0]["value"] == referral.case.org_unit.code


def test_owner_references_the_partner_organization_with_its_hsds_id(completed_bundle, loop):
    _referral, bundle = completed_bundle
    task = _by_type(bundle)["Task"]
    owner = _resolve(bundle, task["owner"]["reference"])
    assert owner["resourceType"] == "Organization" and owner["name"] == loop.clinic.name
    hsds_id = f"urn:uuid:{loop.clinic.id}"
    assert task["owner"]["identifier"]["value"] == hsds_id
    assert owner["identifier"] == [{"system": "urn:ietf:rfc:3986", "value": hsds_id}]
    performer = _by_type(bundle)["ServiceRequest"]["performer"][0]
    assert performer["reference"] == task["owner"]["reference"]


@pytest.mark.parametrize(
    "category, sdoh",
    [
        ("jobs", "employment-status"),
        ("loans", "financial-insecurity"),
        ("violence_support", "intimate-partner-violence"),
        ("vocational_training", "educational-attainment"),
        ("health", None),
        ("trafficking_support", None),
    ],
)
def test_category_sdohcc_code_where_one_exists_and_local_code_always(category, sdoh):
    concept = fhir.category_concept(category)
    systems = [c["system"] for c in concept["coding"]]
    if sdoh:
        assert concept["coding"][0] == {
            "system": TEMP_CODES,
            "code": sdoh,
            "display": concept["coding"][0]["display"],
        }
        assert systems == [TEMP_CODES, fhir.CATEGORY_SYSTEM]
    else:
        assert systems == [fhir.CATEGORY_SYSTEM]
    assert concept["coding"][-1]["code"] == category and concept["text"]


def test_service_request_code_is_coded(completed_bundle, loop):
    _referral, bundle = completed_bundle
    code = _by_type(bundle)["ServiceRequest"]["code"]
    assert {"system": "http://snomed.info/sct", "code": "410606002"} == {
        k: code["coding"][0][k] for k in ("system", "code")
    }
    assert code["coding"][1]["code"] == str(loop.hiv_testing.id)
    assert code["text"] == loop.hiv_testing.name


def test_completed_task_output_references_a_procedure(completed_bundle):
    referral, bundle = completed_bundle
    task = _by_type(bundle)["Task"]
    (output,) = task["output"]
    assert output["type"]["coding"] == [{"system": TEMP_CODES, "code": "resulting-activity"}]
    procedure = _resolve(bundle, output["valueReference"]["reference"])
    assert procedure["resourceType"] == "Procedure"
    # us-core-7: performed present when completed; based on the ServiceRequest
    assert (
        procedure["status"] == "completed"
        and procedure["performedDateTime"] == local_today().isoformat()
    )
    assert procedure["basedOn"] == [{"reference": task["focus"]["reference"]}]
    assert procedure["subject"] == task["for"]
    assert procedure["code"]["coding"]
    assert any(c["system"] == fhir.REASON_SYSTEM for c in procedure["outcome"]["coding"])
    assert task["businessStatus"]["coding"][0]["code"] == "enrolled"


def test_open_task_has_no_output_and_no_procedure(loop, world):
    referral = _sent(loop, world)
    bundle = fhir.referral_bundle(referral)
    assert "output" not in _by_type(bundle)["Task"]
    assert "Procedure" not in _by_type(bundle)


@pytest.mark.parametrize(
    "to, data",
    [
        ("rejected", {"reason_code": "no_capacity"}),
        ("cancelled", {"reason_code": "client_declined"}),
        ("on-hold", {}),
        ("failed", {"reason_code": "no_show"}),
    ],
)
def test_every_status_reason_has_text(loop, world, to, data):
    referral = _sent(loop, world)
    partner = actor(loop.partner)
    if to in ("on-hold", "failed"):
        services.transition(partner, referral, "accepted")
    who = actor(world.users["caseworker"]) if to == "cancelled" else partner  # hers alone
    services.transition(who, referral, to, services.TransitionInput(**data))
    reason = fhir.task_resource(referral)["statusReason"]
    code = reason["coding"][0]["code"]
    assert code == data.get("reason_code", "waitlisted")
    assert reason["text"] == str(REASON_LABELS[ReasonCode(code)])


def test_task_status_stays_in_the_referral_task_status_value_set(loop, world):
    # SDOHCC-ValueSetReferralTaskStatus excludes "ready" and "received".
    referral = _sent(loop, world)
    assert fhir.task_resource(referral)["status"] not in ("ready", "received")


def test_drafts_are_not_exported(client, loop, world):
    cw = actor(world.users["caseworker"])
    draft = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    token = create_api_token(cw, "test")[1]
    db.session.commit()
    with pytest.raises(fhir.NotExportable):
        fhir.referral_bundle(draft)
    response = client.get(
        f"/api/v1/referrals/{draft.id}/fhir", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 409
    assert "referral.exported" not in audit_actions()


def test_patient_has_only_consented_fields_and_never_the_case_code(loop, world):
    # "code" is shared with the partner on the slip, yet FHIR never carries it.
    referral = _sent(loop, world, fields=("preferred_name", "need"))
    patient = fhir.patient_resource(referral)
    text = str(fhir.referral_bundle(referral))
    assert loop.case.code not in text
    assert patient["name"] == [{"text": "Chị Lan"}]
    assert "telecom" not in patient  # phone not shared
    assert "0912 345 678" not in text and "Nguyễn Thị Lan" not in text


def test_withdrawn_referral_patient_carries_nothing(loop, world):
    from app.cases import services as case_services

    referral = _sent(loop, world, fields=("preferred_name", "phone", "need"))
    consent = next(c for c in loop.case.consents if c.purpose == "share:health")
    case_services.withdraw_consent(
        actor(world.users["caseworker"]), loop.case, consent, reason="her_request"
    )
    patient = fhir.patient_resource(referral)
    assert set(patient) <= {"resourceType", "id", "identifier"}  # the referral's reference
    assert [i["value"] for i in patient.get("identifier", [])] == [referral.partner_reference]
    assert "note" not in fhir.service_request_resource(referral)
    assert fhir.task_resource(referral)["status"] == "cancelled"


def test_caseworker_export_is_audited(client, loop, world, completed_bundle):
    referral, _bundle = completed_bundle
    token = create_api_token(actor(world.users["caseworker"]), "test")[1]
    db.session.commit()
    response = client.get(
        f"/api/v1/referrals/{referral.id}/fhir", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    Bundle.model_validate(response.get_json())
    assert "referral.exported" in audit_actions()
