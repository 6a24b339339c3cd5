"""Permission matrix: five roles x two communes, pages and API.

The volunteer and caseworker act in commune A (district A); commune B is outside their subtree,
so its entries answer 404 (audited). Supervisors, partners and admins never reach outreach
pages or the outreach API (403, audited): supervisors see outreach only as report figures.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from tests.outreach.conftest import payload
from tests.outreach.factories import OutreachActivityFactory

ROLES = ["volunteer", "caseworker", "supervisor", "partner", "admin"]
LOGGERS = {"volunteer", "caseworker"}


@pytest.fixture
def entries(world, clock):
    a = OutreachActivityFactory(
        org_unit=world.commune_a, created_by=world.users["volunteer"], created_at=clock.now
    )
    b = OutreachActivityFactory(
        org_unit=world.commune_b, created_by=world.users["volunteer_b"], created_at=clock.now
    )
    db.session.commit()
    return {"A": a, "B": b}


def _denied_count() -> int:
    return db.session.execute(
        sa.select(sa.func.count()).where(AuditEvent.outcome == "denied")
    ).scalar_one()


OBJECT_REQUESTS = [
    ("GET", "/outreach/{id}/edit", 200),
    ("POST", "/outreach/{id}/delete", 302),
    ("GET", "/api/v1/outreach/{id}", 200),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("commune", ["A", "B"])
@pytest.mark.parametrize(("method", "url", "ok"), OBJECT_REQUESTS)
def test_entry_matrix(world, entries, client_for, role, commune, method, url, ok):
    client = client_for(world.users[role])
    before = _denied_count()
    response = client.open(url.format(id=entries[commune].id), method=method)
    if role not in LOGGERS:
        expected = 403
    else:
        expected = ok if commune == "A" else 404
    assert response.status_code == expected
    if expected in (403, 404):
        assert _denied_count() == before + 1


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("commune", ["A", "B"])
def test_create_matrix(world, client_for, clock, role, commune):
    unit = world.commune_a if commune == "A" else world.commune_b
    client = client_for(world.users[role])
    api = client.post("/api/v1/outreach", json=payload(unit.id, idempotency_key="m" * 20))
    page = client.post("/outreach/new", data=payload(unit.id, idempotency_key="n" * 20))
    if role not in LOGGERS:
        assert (api.status_code, page.status_code) == (403, 403)
    elif commune == "A":
        assert (api.status_code, page.status_code) == (201, 302)
    else:
        assert (api.status_code, page.status_code) == (404, 404)


COLLECTION = [
    "/outreach/",
    "/outreach/?view=unit",
    "/outreach/new",
    "/outreach/indicators",
    "/outreach/import",
    "/outreach/template.xlsx",
    "/api/v1/outreach",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", COLLECTION)
def test_collection_matrix(world, entries, client_for, role, url):
    response = client_for(world.users[role]).get(url)
    assert response.status_code == (200 if role in LOGGERS else 403)


@pytest.mark.parametrize("role", sorted(LOGGERS))
def test_api_list_shows_only_the_subtree(world, entries, client_for, role):
    items = client_for(world.users[role]).get("/api/v1/outreach").json["items"]
    assert [i["id"] for i in items] == [entries["A"].id]
