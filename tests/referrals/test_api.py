"""The referral JSON API and the FHIR export."""

from __future__ import annotations

import json
from datetime import date

import pytest

from app.cases.tokens import create_api_token
from app.extensions import db
from app.referrals import services
from app.referrals.models import Referral
from tests.conftest import audit_actions
from tests.referrals.conftest import actor


@pytest.fixture
def tokens(loop, world):
    out = {
        name: create_api_token(actor(user), "test")[1]
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


def _h(token):
    return {"Authorization": f"Bearer {token}"}


def test_caseworker_creates_partner_answers(client, loop, tokens):
    response = client.post(
        "/api/v1/referrals",
        headers=_h(tokens["caseworker"]),
        json={
            "case_code": loop.case.code,
            "need_id": loop.need.id,
            "service_id": str(loop.hiv_testing.id),
            "priority": "urgent",
            "partner_note": "Gọi trước",
        },
    )
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert body["status"] == "requested" and body["case_code"] == loop.case.code
    # No client reference: she has not consented to be recognised by the partner.
    assert body["shared_fields"] == ["preferred_name", "phone", "need"]
    rid = body["id"]

    listing = client.get("/api/v1/referrals", headers=_h(tokens["partner"])).get_json()
    assert [r["id"] for r in listing["items"]] == [rid]
    assert "case_code" not in listing["items"][0]  # partners get the shared fields only
    one = client.get(f"/api/v1/referrals/{rid}", headers=_h(tokens["partner"])).get_json()
    assert one["partner_reference"] == db.session.get(Referral, rid).partner_reference
    assert loop.case.code not in json.dumps(one) and one["partner_note"] == "Gọi trước"
    assert "events" not in one and "shared_fields" not in one

    moved = client.post(
        f"/api/v1/referrals/{rid}/transition",
        headers=_h(tokens["partner"]),
        json={"to": "accepted"},
    )
    assert moved.status_code == 200 and moved.get_json()["status"] == "accepted"
    bad = client.post(
        f"/api/v1/referrals/{rid}/transition",
        headers=_h(tokens["partner"]),
        json={"to": "requested"},
    )
    assert bad.status_code == 409
    missing = client.post(
        f"/api/v1/referrals/{rid}/transition",
        headers=_h(tokens["partner"]),
        json={"to": "completed"},
    )
    assert missing.status_code == 422
    done = client.post(
        f"/api/v1/referrals/{rid}/transition",
        headers=_h(tokens["partner"]),
        json={"to": "completed", "outcome": "enrolled", "service_date": date.today().isoformat()},
    )
    assert done.status_code == 200
    assert db.session.get(Referral, rid).outcome == "enrolled"


def test_api_isolation_and_roles(client, loop, world, tokens):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral)
    db.session.commit()
    rid = referral.id
    assert (
        client.get(f"/api/v1/referrals/{rid}", headers=_h(tokens["partner_b"])).status_code == 404
    )
    assert (
        client.post(
            f"/api/v1/referrals/{rid}/transition",
            headers=_h(tokens["partner_b"]),
            json={"to": "accepted"},
        ).status_code
        == 404
    )
    assert (
        client.get("/api/v1/referrals", headers=_h(tokens["partner_b"])).get_json()["items"] == []
    )
    assert (
        client.get(f"/api/v1/referrals/{rid}", headers=_h(tokens["caseworker_b"])).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/referrals/{rid}/fhir", headers=_h(tokens["caseworker_b"])).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/referrals/{rid}/fhir", headers=_h(tokens["partner"])).status_code
        == 403
    )
    assert client.get("/api/v1/referrals", headers=_h(tokens["volunteer"])).status_code == 403
    assert (
        client.post("/api/v1/referrals", headers=_h(tokens["partner"]), json={}).status_code == 403
    )
    assert client.get("/api/v1/referrals").status_code == 401
    assert audit_actions().count("access.denied") >= 4


def test_api_refuses_without_sharing_consent(client, loop, world, tokens):
    consent = next(c for c in loop.case.consents if c.purpose == "share:health")
    consent.withdrawn_at = consent.recorded_at
    db.session.commit()
    response = client.post(
        "/api/v1/referrals",
        headers=_h(tokens["caseworker"]),
        json={
            "case_code": loop.case.code,
            "need_id": loop.need.id,
            "service_id": str(loop.hiv_testing.id),
        },
    )
    assert response.status_code == 422
    assert "đồng ý" in response.get_json()["error"]
    assert db.session.query(Referral).count() == 0


def test_openapi_lists_referral_paths(client, tokens):
    doc = client.get("/api/v1/openapi.json", headers=_h(tokens["caseworker"])).get_json()
    for path in (
        "/api/v1/referrals",
        "/api/v1/referrals/{referral_id}",
        "/api/v1/referrals/{referral_id}/transition",
        "/api/v1/referrals/{referral_id}/fhir",
    ):
        assert path in doc["paths"]
    assert "post" in doc["paths"]["/api/v1/referrals"]
