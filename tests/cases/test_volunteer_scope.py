"""A volunteer sees the cases she opened or is assigned, not her whole commune (issue 16, pt 9).

No test had a case in her commune that she neither opened nor was assigned, so a volunteer
seeing every case of her commune passed the whole suite.
"""

from __future__ import annotations

import pytest

from app.cases.tokens import create_api_token
from app.extensions import db
from app.permissions import Actor
from tests.cases.conftest import open_case
from tests.conftest import sign_in


@pytest.fixture
def cases(world):
    volunteer = world.users["volunteer"]
    own = open_case(volunteer, world.commune_a, full_name="Đỗ Thị Riêng")
    neighbour = open_case(world.users["caseworker"], world.commune_a, full_name="Đinh Thị Hàng")
    assert neighbour.org_unit_id == volunteer.org_unit_id
    assert neighbour.opened_by_id != volunteer.id and neighbour.assigned_to_id != volunteer.id
    return own, neighbour


def test_same_commune_case_she_did_not_open_is_out_of_her_scope(client, world, cases):
    own, neighbour = cases
    sign_in(client, "volunteer")
    listing = client.get("/cases/").get_data(as_text=True)
    assert own.code in listing and neighbour.code not in listing
    assert client.get(f"/cases/{own.code}").status_code == 200
    assert client.get(f"/cases/{neighbour.code}").status_code == 404
    found = client.post("/cases/search", data={"q": "Đinh Thị Hàng"}).get_data(as_text=True)
    assert neighbour.code not in found


def test_same_commune_case_is_out_of_her_api_scope(client, world, cases):
    own, neighbour = cases
    token = create_api_token(Actor.from_user(world.users["volunteer"]), "t")[1]
    db.session.commit()
    headers = {"Authorization": f"Bearer {token}"}
    codes = [c["code"] for c in client.get("/api/v1/cases", headers=headers).get_json()["items"]]
    assert own.code in codes and neighbour.code not in codes
    assert client.get(f"/api/v1/cases/{neighbour.code}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/cases/{own.code}", headers=headers).status_code == 200
    found = client.post("/api/v1/cases/search", headers=headers, json={"q": "Đinh Thị Hàng"})
    assert neighbour.code not in [c["code"] for c in found.get_json()["items"]]


def test_assigning_her_brings_the_case_into_scope(client, world, cases):
    _own, neighbour = cases
    neighbour.assigned_to_id = world.users["volunteer"].id
    db.session.commit()
    sign_in(client, "volunteer")
    assert client.get(f"/cases/{neighbour.code}").status_code == 200
