"""The plans' outreach indicators on a fixed fixture (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import date

import pytest

from app.db import utcnow
from app.extensions import db
from app.outreach import indicators
from tests.factories import OrgUnitFactory
from tests.outreach.factories import OutreachActivityFactory

START, END = date(2026, 1, 1), date(2026, 6, 10)


@pytest.fixture
def fixture(world):
    a2 = OrgUnitFactory(code="37-A2", name="Phường Hai", level="ward", parent=world.district_a)
    a3 = OrgUnitFactory(
        code="37-A3", name="Xã Cũ", level="commune", parent=world.district_a, is_retired=True
    )
    a1, b1 = world.commune_a, world.commune_b
    make = OutreachActivityFactory
    make(org_unit=a1, held_on=date(2026, 3, 5), reached_public=5, reached_students=10)
    make(org_unit=a1, held_on=date(2026, 3, 20), form="leaflets", reached_public=100)
    make(org_unit=a2, held_on=date(2026, 5, 1), reached_public=0, reached_industrial_workers=30)
    make(org_unit=a2, held_on=date(2026, 5, 2), reached_public=1000, deleted_at=utcnow())
    make(org_unit=b1, held_on=date(2026, 4, 1), form="loudspeaker", reached_public=7)
    make(org_unit=a1, held_on=date(2025, 12, 31), reached_public=50)
    make(org_unit=a3, held_on=date(2026, 4, 2), form="community_event", reached_public=9)
    db.session.flush()
    return world


def test_communes_with_activity(fixture):
    w = fixture
    assert indicators.communes_with_activity(w.province, START, END) == (3, 3)
    assert indicators.communes_with_activity(w.district_a, START, END) == (2, 2)
    assert indicators.communes_with_activity(w.district_a, date(2026, 4, 1), END) == (1, 2)
    assert indicators.communes_with_activity(w.commune_b, date(2026, 4, 2), END) == (0, 1)
    assert indicators.communes_with_activity(w.province, date(2026, 4, 1), date(2026, 4, 1)) == (
        1,
        3,
    )
    missing = indicators.communes_without_activity(w.district_a, date(2026, 4, 1), END)
    assert [u.code for u in missing] == ["37-A1"]


def test_people_reached_counts_live_entries_in_period(fixture):
    assert indicators.people_reached(fixture.province, START, END) == {
        "business_workers": 0,
        "industrial_workers": 30,
        "students": 10,
        "wu_members": 0,
        "public": 121,
        "high_risk": 0,
    }
    assert indicators.people_reached(fixture.district_b, START, END)["public"] == 7


def test_reached_by_form(fixture):
    result = indicators.reached_by_form(fixture.province, START, END)
    assert result["group_talk"] == {"activities": 2, "reached": 45}
    assert result["leaflets"] == {"activities": 1, "reached": 100}
    assert result["loudspeaker"] == {"activities": 1, "reached": 7}
    assert result["community_event"] == {"activities": 1, "reached": 9}
    assert result["social_media"] == {"activities": 0, "reached": 0}


def test_activities_per_month(fixture):
    assert indicators.activities_per_month(fixture.province, START, END) == [
        ("2026-01", 0),
        ("2026-02", 0),
        ("2026-03", 2),
        ("2026-04", 2),
        ("2026-05", 1),
        ("2026-06", 0),
    ]
    assert indicators.activities_per_month(fixture.district_a, date(2025, 12, 1), START) == [
        ("2025-12", 1),
        ("2026-01", 0),
    ]
