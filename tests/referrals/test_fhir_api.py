"""The partners' FHIR API: search, read, and answering a referral from the partner's own system."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome
from fhir.resources.R4B.task import Task

from app.audit.models import AuditEvent
from app.cases import services as case_services
from app.cases.tokens import create_api_token
from app.extensions import db
from app.referrals import fhir, services
from app.referrals.models import Referral
from app.referrals.status import local_today
from tests.conftest import audit_actions
from tests.referrals.conftest import actor, forget_signed_in_user


@pytest.fixture
def tokens(loop, world):
    out = {
        name: create_api_token(actor(user), "fhir")[1]
        for name, user in [
            ("caseworker", world.users["caseworker"]),
            ("caseworker_b", world.users["caseworker_b"]),
            ("partner", loop.partner),
            ("partner_b", loop.partner_b),
            ("volunteer", world.users["volunteer"]),
        ]
    }
    db.session.commit()
    return out


def _h(token, content_type="application/fhir+json"):
    return {"Authorization": f"Bearer {token}", "Content-Type": content_type}


@pytest.fixture
def sent(loop, world):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(
        cw, loop.case, loop.need, loop.hiv_testing, fields=["preferred_name", "need"]
    )
    services.send_referral(cw, referral)
    draft = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    db.session.commit()
    return referral, draft


def _outcome(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/fhir+json"
    body = response.get_json()
    OperationOutcome.model_validate(body)
    issue = body["issue"][0]
    translation = issue["details"]["_text"]["extension"][0]["extension"]
    english = next(e["valueString"] for e in translation if e["url"] == "content")
    return issue["details"]["text"], english


def test_capability_statement_is_public_and_names_the_profile(client):
    response = client.get("/fhir/metadata")
    assert response.status_code == 200 and response.mimetype == "application/fhir+json"
    statement = CapabilityStatement.model_validate(response.get_json())
    task = next(r for r in statement.rest[0].resource if r.type == "Task")
    assert task.supportedProfile == [fhir.TASK_PROFILE]
    assert {i.code for i in task.interaction} == {"read", "search-type", "update", "patch"}
    assert {p.name for p in task.searchParam} >= {"owner", "status", "_lastUpdated"}


def test_no_token_is_401_operation_outcome(client, sent):
    text, english = _outcome(client.get("/fhir/Task"), 401)
    assert "Bearer" in text and english


def test_volunteer_token_is_refused(client, tokens):
    _outcome(client.get("/fhir/Task", headers=_h(tokens["volunteer"])), 403)


def test_partner_searches_its_tasks_by_owner_status_and_last_updated(client, loop, tokens, sent):
    referral, draft = sent
    owner = f"Organization/{loop.clinic.id}"
    url = f"/fhir/Task?owner={owner}&status=requested&_lastUpdated=ge2020-01-01"
    body = client.get(url, headers=_h(tokens["partner"])).get_json()
    bundle = Bundle.model_validate(body)
    assert bundle.type == "searchset" and bundle.total == 1
    assert [e.resource.id for e in bundle.entry] == [str(referral.id)]  # never the draft
    for query in ("status=completed", "_lastUpdated=lt2020-01-01", "_lastUpdated=gt2100-01-01"):
        empty = client.get(f"/fhir/Task?{query}", headers=_h(tokens["partner"])).get_json()
        assert empty["total"] == 0, query
    # another partner, even naming the clinic as owner, finds nothing
    other = client.get(f"/fhir/Task?owner={owner}", headers=_h(tokens["partner_b"])).get_json()
    assert other["total"] == 0
    bad = client.get("/fhir/Task?_lastUpdated=ge2020-13-45", headers=_h(tokens["partner"]))
    _outcome(bad, 400)


def test_search_includes_the_service_request(client, tokens, sent):
    referral, _draft = sent
    body = client.get("/fhir/Task?_include=Task:focus", headers=_h(tokens["partner"])).get_json()
    modes = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in body["entry"]]
    assert modes == [("Task", "match"), ("ServiceRequest", "include")]
    assert "referral.viewed" in audit_actions()


def test_partner_reads_task_and_its_service_request_and_patient(client, tokens, sent):
    referral, draft = sent
    h = _h(tokens["partner"])
    task = client.get(f"/fhir/Task/{referral.id}", headers=h).get_json()
    Task.model_validate(task)
    request = client.get(f"/fhir/{task['focus']['reference']}", headers=h).get_json()
    assert request["resourceType"] == "ServiceRequest" and request["id"] == str(referral.id)
    patient = client.get(f"/fhir/{task['for']['reference']}", headers=h).get_json()
    assert patient["name"] == [{"text": "Chị Lan"}] and "telecom" not in patient
    owner = client.get(f"/fhir/{task['owner']['reference']}", headers=h).get_json()
    assert owner["resourceType"] == "Organization"
    _outcome(client.get(f"/fhir/Task/{draft.id}", headers=h), 404)
    _outcome(client.get(f"/fhir/Procedure/{referral.id}", headers=h), 404)  # not completed
    _outcome(client.get(f"/fhir/Task/{referral.id}", headers=_h(tokens["partner_b"])), 404)
    _outcome(client.get(f"/fhir/Task/{referral.id}", headers=_h(tokens["caseworker_b"])), 404)
    assert audit_actions().count("referral.viewed") == 2  # ServiceRequest and Patient


def test_partner_system_answers_and_the_caseworker_page_shows_it(
    client, loop, world, tokens, sent, login_as
):
    referral, _draft = sent
    h = _h(tokens["partner"])
    task = client.get(f"/fhir/Task/{referral.id}", headers=h).get_json()
    task["status"] = "accepted"
    accepted = client.put(f"/fhir/Task/{referral.id}", headers=h, data=json.dumps(task))
    assert accepted.status_code == 200, accepted.get_json()
    assert accepted.get_json()["status"] == "accepted"

    today = local_today().isoformat()
    patch = [
        {"op": "replace", "path": "/status", "value": "completed"},
        {
            "op": "add",
            "path": "/contained",
            "value": [
                {
                    "resourceType": "Procedure",
                    "id": "done",
                    "status": "completed",
                    "subject": {"reference": f"Patient/{referral.id}"},
                    "performedDateTime": today,
                }
            ],
        },
        {
            "op": "add",
            "path": "/output",
            "value": [
                {
                    "type": {"coding": [fhir.RESULTING_ACTIVITY]},
                    "valueReference": {"reference": "#done"},
                }
            ],
        },
    ]
    done = client.patch(
        f"/fhir/Task/{referral.id}",
        headers=_h(tokens["partner"], "application/json-patch+json"),
        data=json.dumps(patch),
    )
    assert done.status_code == 200, done.get_json()
    body = done.get_json()
    assert body["status"] == "completed"
    assert body["output"][0]["valueReference"]["reference"] == f"Procedure/{referral.id}"
    procedure = client.get(f"/fhir/Procedure/{referral.id}", headers=h).get_json()
    assert procedure["performedDateTime"] == today

    db.session.expire_all()
    stored = db.session.get(Referral, referral.id)
    assert (stored.status, stored.outcome, stored.completed_on.isoformat()) == (
        "completed",
        "service_received",
        today,
    )
    events = (
        db.session.execute(
            sa.select(AuditEvent).where(
                AuditEvent.action.in_(["referral.accepted", "referral.completed"])
            )
        )
        .scalars()
        .all()
    )
    assert [(e.action, e.actor_username, json.loads(e.details)["via"]) for e in events] == [
        ("referral.accepted", "partner", "fhir"),
        ("referral.completed", "partner", "fhir"),
    ]

    forget_signed_in_user()
    login_as(world.users["caseworker"])
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Đã nhận dịch vụ" in page and "Đã tiếp nhận" in page
    assert page.count("· partner ·") == 2  # both answers in the history, by the partner


def test_wrong_transition_is_an_operation_outcome_and_changes_nothing(client, tokens, sent):
    referral, _draft = sent
    task = fhir.task_resource(referral)
    task["status"] = "completed"  # requested -> completed skips acceptance
    response = client.put(f"/fhir/Task/{referral.id}", headers=_h(tokens["partner"]), json=task)
    vi, en = _outcome(response, 409)
    assert vi == "Không thể chuyển trạng thái chuyển gửi này."
    assert en and en != vi
    task["status"] = "entered-in-error"  # the caseworker's move only
    _outcome(client.put(f"/fhir/Task/{referral.id}", headers=_h(tokens["partner"]), json=task), 409)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "requested"
    assert not any(a.startswith("referral.completed") for a in audit_actions())


def test_rejection_needs_a_reason_code(client, tokens, sent):
    referral, _draft = sent
    task = fhir.task_resource(referral)
    task["status"] = "rejected"
    _outcome(client.put(f"/fhir/Task/{referral.id}", headers=_h(tokens["partner"]), json=task), 422)
    task["statusReason"] = {
        "coding": [{"system": fhir.REASON_SYSTEM, "code": "no_capacity"}],
        "text": "Hết chỗ",
    }
    ok = client.put(f"/fhir/Task/{referral.id}", headers=_h(tokens["partner"]), json=task)
    assert ok.status_code == 200
    assert ok.get_json()["statusReason"]["coding"][0]["code"] == "no_capacity"


def test_fixed_elements_cannot_change(client, loop, tokens, sent):
    referral, _draft = sent
    task = fhir.task_resource(referral)
    task["status"] = "accepted"
    task["owner"] = {"reference": f"Organization/{loop.legal.id}"}
    vi, _en = _outcome(
        client.put(f"/fhir/Task/{referral.id}", headers=_h(tokens["partner"]), json=task), 422
    )
    assert "status" in vi


def test_malformed_bodies_are_400(client, tokens, sent):
    referral, _draft = sent
    url = f"/fhir/Task/{referral.id}"
    _outcome(client.put(url, headers=_h(tokens["partner"]), data="{not json"), 400)
    _outcome(client.put(url, headers=_h(tokens["partner"]), json={"resourceType": "Patient"}), 400)
    _outcome(
        client.put(url, headers=_h(tokens["partner"]), json={"resourceType": "Task", "status": 7}),
        400,
    )
    bad_patch = [{"op": "replace", "path": "/nowhere/deep", "value": 1}]
    _outcome(
        client.patch(
            url, headers=_h(tokens["partner"], "application/json-patch+json"), json=bad_patch
        ),
        400,
    )
    _outcome(client.patch(url, headers=_h(tokens["partner"]), json=[]), 415)


def test_other_partner_cannot_answer(client, tokens, sent):
    referral, _draft = sent
    task = fhir.task_resource(referral)
    task["status"] = "accepted"
    _outcome(
        client.put(f"/fhir/Task/{referral.id}", headers=_h(tokens["partner_b"]), json=task), 404
    )


def test_withdrawn_referral_cannot_be_answered(client, loop, world, tokens, sent):
    referral, _draft = sent
    task = fhir.task_resource(referral)
    consent = next(c for c in loop.case.consents if c.purpose == "share:health")
    case_services.withdraw_consent(
        actor(world.users["caseworker"]), loop.case, consent, reason="her_request"
    )
    db.session.commit()
    task["status"] = "accepted"
    _outcome(client.put(f"/fhir/Task/{referral.id}", headers=_h(tokens["partner"]), json=task), 409)


def test_every_fhir_message_has_an_english_translation():
    from pathlib import Path

    from tests.auth.test_i18n import _catalog, _msgids

    app_dir = Path(fhir.__file__).resolve().parent
    ids = _msgids(sorted(app_dir.glob("fhir*.py")))
    translations = _catalog(app_dir / "translations" / "en" / "LC_MESSAGES" / "messages.po")
    assert len(ids) > 10
    assert not sorted(m for m in ids if not translations.get(m))
