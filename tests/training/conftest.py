"""Training fixtures: a frozen clock, a plan with staff in post, and the page's form data."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.extensions import db
from app.reports.models import Indicator, Plan, PlanTarget
from app.training import services
from app.training.models import StaffInPost

NOW = datetime(2026, 6, 10, 5, 0, tzinfo=UTC)
TODAY = date(2026, 6, 10)


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    monkeypatch.setattr(services, "now", lambda: NOW)
    return NOW


@pytest.fixture(autouse=True)
def fresh_actor_per_request(monkeypatch):
    """One signed-in client per person: `g` must not carry one request's user to the next (the
    test app context outlives each request)."""
    from flask import g
    from flask.testing import FlaskClient

    original = FlaskClient.open

    def open_clean(self, *args, **kwargs):
        g.pop("actor", None)
        g.pop("_login_user", None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FlaskClient, "open", open_clean)


@pytest.fixture
def client_for(app):
    """client_for(user): a fresh test client signed in as `user`."""
    from tests.conftest import sign_in

    def _client(user):
        client = app.test_client()
        response = sign_in(client, user.username)
        assert response.status_code == 302, response.status_code
        return client

    return _client


@pytest.fixture
def plan(world):
    """The province's 2026 plan: 90% of officers trained; staff in post entered per unit
    (province 4, district A 3, commune A1 2, district B 3; commune B1 not entered)."""
    plan = Plan(
        org_unit_id=world.province.id,
        name="Kế hoạch 2026",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        targets=[
            PlanTarget(indicator=Indicator.CONNECTED_RATE.value, value=Decimal(80)),
            PlanTarget(indicator=Indicator.STAFF_TRAINED.value, value=Decimal(90)),
        ],
    )
    db.session.add(plan)
    db.session.flush()
    for unit, officers in (
        (world.province, 4),
        (world.district_a, 3),
        (world.commune_a, 2),
        (world.district_b, 3),
    ):
        db.session.add(StaffInPost(plan_id=plan.id, org_unit_id=unit.id, officers=officers))
    db.session.commit()
    return plan


def entry(unit, **overrides) -> services.Entry:
    data = {
        "org_unit_id": unit.id,
        "held_on": date(2026, 3, 12),
        "topic": "Kỹ năng tư vấn hỗ trợ hòa nhập cộng đồng",
        "organizer": "Hội LHPN tỉnh",
        "format": "in_person",
        "attendee_ids": [],
        "headcounts": [],
    }
    data.update(overrides)
    return services.Entry(**data)


def form_data(unit, *, attendees=(), lines=(), **overrides) -> dict:
    """The session form as the page posts it; `lines` are (unit, officers, volunteers)."""
    data = {
        "org_unit_id": str(unit.id),
        "held_on": "12/03/2026",
        "topic": "Kỹ năng tư vấn hỗ trợ hòa nhập cộng đồng",
        "organizer": "Hội LHPN tỉnh",
        "format": "in_person",
        "attendee_ids": [str(u.id) for u in attendees],
    }
    for n, (line_unit, officers, volunteers) in enumerate(lines):
        data[f"headcounts-{n}-org_unit_id"] = str(line_unit.id)
        data[f"headcounts-{n}-officers"] = str(officers)
        data[f"headcounts-{n}-volunteers"] = str(volunteers)
    data.update(overrides)
    return data
