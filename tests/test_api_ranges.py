"""Out-of-range numbers never reach the database (issue 16, point 2).

Ids above 2³¹ failed on PostgreSQL's INTEGER columns and above 2⁶³ on both databases (500);
now an id out of range is a 404 like any unknown one, a page or filter out of range a 400 with
the API's error body. The same tests run on PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

import pytest

from app.cases.tokens import create_api_token
from app.extensions import db
from app.permissions import Actor

HUGE = [2**31, 2**31 + 1, 45420550150, 2**63, 99999999999999999999]


@pytest.fixture
def bearer(world):
    def make(username: str = "caseworker") -> dict:
        plain = create_api_token(Actor.from_user(world.users[username]), "t")[1]
        db.session.commit()
        return {"Authorization": f"Bearer {plain}"}

    return make


@pytest.mark.parametrize("number", HUGE)
@pytest.mark.parametrize(
    ("method", "path", "role"),
    [
        ("GET", "/api/v1/referrals/{n}", "caseworker"),
        ("GET", "/api/v1/referrals/{n}", "partner"),
        ("GET", "/api/v1/referrals/{n}/fhir", "caseworker"),
        ("POST", "/api/v1/referrals/{n}/transition", "partner"),
        ("GET", "/api/v1/outreach/{n}", "volunteer"),
        ("GET", "/api/v1/reports/annual/{n}", "supervisor"),
    ],
)
def test_ids_out_of_range_are_not_found(client, bearer, method, path, role, number):
    response = client.open(
        path.format(n=number), method=method, headers=bearer(role), json={"to": "accepted"}
    )
    assert response.status_code == 404
    assert response.get_json()["status"] == 404


@pytest.mark.parametrize("number", HUGE)
def test_pages_out_of_range_on_web_pages_are_not_found(client, world, login_as, number):
    login_as(world.users["caseworker"])
    assert client.get(f"/referrals/{number}").status_code == 404
    assert client.get(f"/cases/?after={number}").status_code == 200  # keyset: ignored


@pytest.mark.parametrize(
    "query",
    [
        "/api/v1/cases?after=99999999999999999999",
        "/api/v1/cases?after=0",
        "/api/v1/cases?before=abc",
        "/api/v1/referrals?page=99999999999999999999",
        "/api/v1/outreach?page=99999999999999999999",
        "/api/v1/outreach?org_unit_id=1000000000000",
        "/api/v1/outreach?per_page=100000000000000000000",
    ],
)
def test_query_numbers_out_of_range_are_refused(client, bearer, query):
    response = client.get(query, headers=bearer())
    assert response.status_code == 400
    assert response.get_json()["status"] == 400


def test_body_ids_out_of_range_are_refused(client, bearer, world):
    headers = bearer()
    response = client.post(
        "/api/v1/referrals",
        headers=headers,
        json={
            "case_code": "NB-2026-00001",
            "need_id": 2**63,
            "service_id": "e3e70682-c209-1cac-a29f-6fbed82c07cd",
        },
    )
    assert response.status_code == 400 and "need_id" in response.get_json()["fields"]
    response = client.post(
        "/api/v1/outreach",
        headers=headers,
        json={
            "idempotency_key": "k" * 20,
            "org_unit_id": 2**31,
            "held_on": "2026-01-05",
            "form": "group_talk",
            "place": "Nhà văn hoá",
        },
    )
    assert response.status_code == 400 and "org_unit_id" in response.get_json()["errors"]
