"""Fixtures for the cases module: open cases through the real service."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from app.cases import consents as cons
from app.cases import services
from app.extensions import db
from app.permissions import Actor

_counter = itertools.count(1)


def count_rows(model) -> int:
    return db.session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()


def intake_form(unit_id: int, **overrides) -> dict:
    """The intake page's form data for a consenting adult."""
    n = next(_counter)
    data = {
        "consent_record": "y",
        "consent_share": ["share:vocational_training", "share:health"],
        "consent_contact_phone": "y",
        "consent_method": "verbal",
        "given_by": "self",
        "full_name": f"Trần Thị Thử {n}",
        "preferred_name": "Thử",
        "date_of_birth": "15/03/1995",
        "phone": f"09{n:08d}",
        "address": "Thôn Một",
        "id_number": f"0371{n:08d}",
        "org_unit_id": str(unit_id),
        "reached_via": "outreach",
        "need_vocational_training": "high",
        "need_health": "normal",
        "assigned_to_id": "0",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def open_case(user, unit, **overrides):
    n = next(_counter)
    values = {
        "full_name": f"Lê Thị Mẫu {n}",
        "date_of_birth": "1990",
        "phone": f"08{n:08d}",
        "id_number": f"0370{n:08d}",
        "health_details": "Chi tiết sức khỏe",
        "violence_details": "Chi tiết bạo lực",
        "needs": [("vocational_training", "normal"), ("health", "high")],
        "reached_via": "outreach",
    }
    consent = overrides.pop("consent", None) or services.ConsentGiven(
        purposes=[cons.RECORD, "share:vocational_training", "share:health"], method="verbal"
    )
    values.update(overrides)
    case = services.open_case(
        Actor.from_user(user), services.Intake(org_unit_id=unit.id, consent=consent, **values)
    )
    db.session.commit()
    return case


@pytest.fixture
def case_a(world):
    """A case in commune A opened by the district-A caseworker."""
    return open_case(world.users["caseworker"], world.commune_a)


@pytest.fixture
def case_b(world):
    return open_case(world.users["caseworker_b"], world.commune_b)
