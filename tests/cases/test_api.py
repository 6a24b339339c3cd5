"""The JSON API: bearer tokens only, scope, field lists per role, the OpenAPI document."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases import tokens
from app.extensions import db
from app.permissions import Actor
from tests.conftest import audit_actions


@pytest.fixture
def bearer(world):
    def make(username: str) -> dict:
        _t, plain = tokens.create_api_token(Actor.from_user(world.users[username]), "test")
        db.session.commit()
        return {"Authorization": f"Bearer {plain}"}

    return make


def _new_case(world) -> dict:
    return {
        "org_unit": world.commune_a.code,
        "consent": {"purposes": ["record", "share:jobs"], "method": "verbal"},
        "full_name": "Vũ Thị Api",
        "date_of_birth": "1991",
        "phone": "0911222333",
        "health_details": "Chi tiết sức khỏe qua API",
        "needs": [{"category": "jobs", "priority": "high"}, {"category": "health"}],
    }


def test_create_read_search_list(client, world, bearer):
    headers = bearer("caseworker")
    response = client.post("/api/v1/cases", json=_new_case(world), headers=headers)
    assert response.status_code == 201
    code = response.get_json()["code"]
    body = client.get(f"/api/v1/cases/{code}", headers=headers).get_json()
    assert body["full_name"] == "Vũ Thị Api" and body["health_details"]
    assert body["consents_in_force"] == ["record", "share:jobs"]
    assert {n["category"] for n in body["needs"]} == {"jobs", "health"}
    found = client.post("/api/v1/cases/search", json={"q": "vu thi api"}, headers=headers)
    assert [c["code"] for c in found.get_json()["items"]] == [code]
    listed = client.get("/api/v1/cases", headers=headers).get_json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "Vũ Thị Api"
    need = client.post(
        f"/api/v1/cases/{code}/needs", json={"category": "legal_aid"}, headers=headers
    )
    assert need.status_code == 201 and need.get_json()["category"] == "legal_aid"
    assert len(client.get(f"/api/v1/cases/{code}/needs", headers=headers).get_json()["items"]) == 3
    assert "case.viewed" in audit_actions() and "case.created" in audit_actions()


def test_no_consent_to_record_is_400_and_nothing_saved(client, world, bearer):
    data = _new_case(world) | {"consent": {"purposes": ["share:jobs"], "method": "verbal"}}
    response = client.post("/api/v1/cases", json=data, headers=bearer("caseworker"))
    assert response.status_code == 400 and response.get_json()["field"] == "consent_record"
    assert "case.created" not in audit_actions()


def test_invalid_input_is_400(client, world, bearer):
    response = client.post("/api/v1/cases", json={"full_name": ""}, headers=bearer("caseworker"))
    assert response.status_code == 400 and "consent" in response.get_json()["fields"]


def test_volunteer_gets_no_health_or_violence_fields(client, world, bearer):
    headers = bearer("volunteer")
    code = client.post("/api/v1/cases", json=_new_case(world), headers=headers).get_json()["code"]
    body = client.get(f"/api/v1/cases/{code}", headers=headers).get_json()
    assert "health_details" not in body and "violence_details" not in body
    assert [n["category"] for n in body["needs"]] == ["jobs"]


def test_volunteer_does_not_learn_of_health_consents(client, world, bearer):
    new = _new_case(world)
    new["consent"]["purposes"] += ["share_hiv", "share:health"]
    headers = bearer("volunteer")
    code = client.post("/api/v1/cases", json=new, headers=headers).get_json()["code"]
    seen = client.get(f"/api/v1/cases/{code}", headers=headers).get_json()
    assert seen["consents_in_force"] == ["record", "share:jobs"]
    full = client.get(f"/api/v1/cases/{code}", headers=bearer("caseworker")).get_json()
    assert set(full["consents_in_force"]) == {"record", "share:jobs", "share_hiv", "share:health"}


def test_out_of_scope_is_404_and_audited(client, world, bearer):
    code = client.post(
        "/api/v1/cases", json=_new_case(world), headers=bearer("caseworker")
    ).get_json()["code"]
    response = client.get(f"/api/v1/cases/{code}", headers=bearer("caseworker_b"))
    assert response.status_code == 404 and code not in response.get_data(as_text=True)
    assert audit_actions()[-1] == "access.denied"


def test_cookie_is_never_used_for_the_api(client, world, login_as):
    login_as(world.users["caseworker"])
    assert client.get("/cases/").status_code == 200
    assert client.get("/api/v1/cases").status_code == 401


def test_revoked_or_unknown_tokens_are_refused(client, world):
    actor = Actor.from_user(world.users["caseworker"])
    token, plain = tokens.create_api_token(actor, "test")
    headers = {"Authorization": f"Bearer {plain}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200
    tokens.revoke_api_token(actor, token)
    db.session.commit()
    assert client.get("/api/v1/cases", headers=headers).status_code == 401
    assert (
        client.get("/api/v1/cases", headers={"Authorization": "Bearer cn_nope"}).status_code == 401
    )
    assert token.token_hash != plain and len(token.token_hash) == 64


def test_openapi_document_is_public_and_valid(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.")
    assert {"get", "post"} <= set(doc["paths"]["/api/v1/cases"])
    assert "/api/v1/cases/{code}" in doc["paths"] and "/api/v1/cases/search" in doc["paths"]
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(doc["components"]["schemas"]["Case"])


def test_erased_case_lists_no_consent_in_force(client, world, bearer):
    """Issue #11 point 7: after crypto-erasure nothing is processed under her consents."""
    from app.cases import rights
    from app.cases.queries import get_case_by_code

    headers = bearer("caseworker")
    code = client.post("/api/v1/cases", json=_new_case(world), headers=headers).get_json()["code"]
    before = client.get(f"/api/v1/cases/{code}", headers=headers).get_json()
    assert before["consents_in_force"] == ["record", "share:jobs"]
    case = get_case_by_code(code)
    rights.erase_case(Actor.from_user(world.users["caseworker"]), case, code, "her_request")
    db.session.commit()
    after = client.get(f"/api/v1/cases/{code}", headers=headers)
    assert after.status_code == 200
    body = after.get_json()
    assert body["is_erased"] is True and body["consents_in_force"] == []


def test_the_list_walks_by_keyset_each_case_once_and_scoped(client, world, bearer):
    """The API's case list pages like the web list: `after` / `before` cursors, cases opened
    meanwhile never shift a page, another district's cases never appear, a capped total."""
    from tests.cases.conftest import open_case

    mine = [open_case(world.users["caseworker"], world.commune_a).code for _ in range(55)]
    theirs = open_case(world.users["caseworker_b"], world.commune_b).code
    headers = bearer("caseworker")
    seen, pages, query = [], [], ""
    while True:
        body = client.get(f"/api/v1/cases{query}", headers=headers).get_json()
        pages.append([item["code"] for item in body["items"]])
        seen += pages[-1]
        assert body["total"] >= 55 and body["total_is_capped"] is False
        open_case(world.users["caseworker"], world.commune_a)  # someone opens a case meanwhile
        if body["next_after"] is None:
            break
        query = f"?after={body['next_after']}"
    assert seen == mine[::-1] and theirs not in seen
    back = client.get(f"/api/v1/cases?before={body['prev_before']}", headers=headers)
    assert [item["code"] for item in back.get_json()["items"]] == pages[-2]
    assert client.get("/api/v1/cases?after=0", headers=headers).status_code == 400
    assert client.get("/api/v1/cases?after=x", headers=headers).status_code == 400
    listed = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.object_type == "case_list")
    ).all()
    assert len(listed) == len(pages) + 1  # one event per page answered, with its codes
    assert all(code in listed[0] for code in pages[0])
