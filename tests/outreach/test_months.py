"""Outreach kept per unit and month (app.outreach.months): always what the live activities say,
through creations, corrections, moves and deletions; the reports' per-unit figures equal the
activities' for whole months, statutory periods cut mid-month and a few days."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.db import utcnow
from app.extensions import db
from app.outreach import indicators, months
from app.outreach.models import OutreachActivity, OutreachMonth
from app.outreach.vocab import AUDIENCES
from app.permissions import Actor
from app.reports import services as report_services
from tests.outreach.factories import OutreachActivityFactory
from tests.outreach.test_indicators import fixture  # noqa: F401  (the shared activities)


def _from_activities(unit_ids: set[int], start: date, end: date) -> dict:
    """What by_unit must answer, computed from the activities one by one."""
    out: dict[int, tuple[int, dict]] = {}
    for a in db.session.scalars(sa.select(OutreachActivity)):
        if a.deleted_at is None and a.org_unit_id in unit_ids and start <= a.held_on <= end:
            n, reached = out.get(a.org_unit_id, (0, dict.fromkeys(AUDIENCES, 0)))
            for code, people in a.reached.items():
                reached[code] += people
            out[a.org_unit_id] = (n + 1, reached)
    return out


def _consistent() -> bool:
    units = list(db.session.scalars(sa.select(OutreachActivity.org_unit_id).distinct()))
    units += list(db.session.scalars(sa.select(OutreachMonth.org_unit_id)))
    return not months.units_with_wrong_months(db.session.connection(), sorted(set(units)))


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (date(2026, 1, 1), date(2026, 6, 30)),  # a half-year: whole months only
        (date(2025, 12, 15), date(2026, 6, 14)),  # a statutory period, cut mid-month
        (date(2026, 3, 3), date(2026, 3, 25)),  # days of one month
        (date(2025, 12, 31), date(2026, 3, 31)),  # one day, then whole months
        (date(2026, 4, 1), date(2026, 4, 1)),
    ],
)
def test_per_unit_figures_equal_the_activities(fixture, start, end):  # noqa: F811
    units = {u.id for u in (fixture.commune_a, fixture.commune_b)} | {
        a.org_unit_id for a in db.session.scalars(sa.select(OutreachActivity))
    }
    got = indicators.by_unit(fixture.province, start, end)
    assert {uid: (o.activities, o.reached) for uid, o in got.items()} == _from_activities(
        units, start, end
    )


def test_months_follow_corrections_moves_and_deletions(world):
    make = OutreachActivityFactory
    first = make(org_unit=world.commune_a, held_on=date(2026, 3, 5), reached_public=5)
    second = make(org_unit=world.commune_a, held_on=date(2026, 3, 20), reached_students=8)
    db.session.commit()
    assert _consistent()
    first.held_on = date(2026, 4, 2)  # another month
    second.reached_students = 11  # a corrected count
    db.session.commit()
    assert _consistent()
    second.org_unit_id = world.commune_b.id  # entered for the wrong commune
    db.session.commit()
    assert _consistent()
    first.deleted_at = utcnow()  # soft-deleted: leaves the figures
    db.session.commit()
    assert _consistent()
    first.deleted_at = None
    db.session.commit()
    assert _consistent()
    db.session.delete(second)
    db.session.commit()
    assert _consistent()
    kept = {
        (m.org_unit_id, m.month): m.activities for m in db.session.scalars(sa.select(OutreachMonth))
    }
    assert kept[(world.commune_a.id, months.month_of(date(2026, 4, 2)))] == 1
    assert kept[(world.commune_b.id, months.month_of(date(2026, 3, 20)))] == 0


def test_a_rebuild_mends_months_loaded_outside_the_app(world):
    OutreachActivityFactory(org_unit=world.commune_a, held_on=date(2026, 3, 5))
    db.session.commit()
    db.session.execute(sa.update(OutreachMonth).values(activities=OutreachMonth.activities + 4))
    db.session.commit()
    assert not _consistent()
    report_services.rebuild_figures(Actor.system("test"))
    db.session.commit()
    assert _consistent()
    steps = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == "report.figures_rebuilt")
    ).all()
    assert {"step": "outreach_months", "count": 1} in [json.loads(s) for s in steps]


def test_whole_months_and_the_days_outside_them():
    assert months.whole_months(date(2026, 1, 1), date(2026, 6, 30)) == (
        months.month_of(date(2026, 1, 1)),
        months.month_of(date(2026, 6, 1)),
    )
    assert months.whole_months(date(2026, 3, 3), date(2026, 3, 31)) is None
    assert months.partial_ranges(date(2025, 12, 15), date(2026, 6, 14)) == [
        (date(2025, 12, 15), date(2025, 12, 31)),
        (date(2026, 6, 1), date(2026, 6, 14)),
    ]
    assert months.partial_ranges(date(2024, 2, 1), date(2024, 2, 29)) == []
