"""The counts kept per province (app.reports.models.PROVINCE_COUNTS), which the national report
reads: always the sum of their units' counts, after case writes, after a unit moves to another
province, and mended by a rebuild when they are not."""

from __future__ import annotations

import json
from datetime import date

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.orgs import services as orgs
from app.orgs.models import OrgLevel
from app.orgs.queries import provinces_of
from app.permissions import Actor
from app.reports import figures
from app.reports import indicators as ind
from app.reports import services as report_services
from app.reports.models import PROVINCE_COUNTS, ProvinceCaseCount
from tests.factories import OrgUnitFactory
from tests.reports.conftest import TODAY
from tests.reports.test_central import CENTRAL_NAME, H1, _totals


def _consistent(*provinces) -> bool:
    conn = db.session.connection()
    return not any(figures.province_counts_wrong(conn, p.id) for p in provinces)


def _national(central) -> tuple[int, int]:
    """Cases and connected cases of the country, read per province (as a national report with
    more units than rows does: app.reports.layout)."""
    figures_by_row = ind.case_figures(central, H1, "90", by_row=True)
    counts = figures_by_row.by_unit_month.values()
    return sum(c.cases for c in counts), sum(c.connected for c in counts)


def _rows(province) -> int:
    return sum(
        db.session.execute(
            sa.select(sa.func.count()).where(model.org_unit_id == province.id)
        ).scalar_one()
        for model in PROVINCE_COUNTS.values()
    )


def test_province_counts_follow_every_case_write(world, known, bac_ninh, population):
    assert _consistent(world.province, bac_ninh)
    assert _rows(world.province) and _rows(bac_ninh)
    case = population.case(world.commune_b)
    need = population.need(case, date(2026, 3, 1))
    population.referral(case, need, "completed", completed_on=date(2026, 3, 4))
    db.session.commit()
    assert _consistent(world.province, bac_ninh)


def test_a_unit_moved_to_another_province_takes_its_counts_along(world, known, bac_ninh):
    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    db.session.commit()
    country, ninh_binh, other = _totals(central), _totals(world.province), _totals(bac_ninh)
    orgs.move_org_unit(Actor.system("test"), world.district_b, bac_ninh)
    db.session.commit()
    assert _consistent(world.province, bac_ninh)
    moved_cases = ninh_binh[0] - _totals(world.province)[0]
    assert moved_cases > 0 and _totals(bac_ninh)[0] == other[0] + moved_cases
    assert _totals(central) == country and _national(central) == country


def test_a_rebuild_mends_province_counts_that_are_not_their_units_sum(world, known, bac_ninh):
    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    db.session.commit()
    right = _national(central)
    assert right == _totals(central) == (10, 7)
    db.session.execute(
        sa.update(ProvinceCaseCount)
        .where(ProvinceCaseCount.org_unit_id == world.province.id)
        .values(n=ProvinceCaseCount.n + 3)
    )
    db.session.commit()
    assert not _consistent(world.province) and _national(central) != right
    report_services.rebuild_figures(Actor.system("test"))
    db.session.commit()
    assert _consistent(world.province, bac_ninh) and _national(central) == right
    steps = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == "report.figures_rebuilt")
    ).all()
    assert {"step": "province_counts", "count": 1} in [json.loads(s) for s in steps]


def test_a_unit_above_the_provinces_has_no_province(world):
    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    loose = OrgUnitFactory(code="99", name="Tỉnh Thử", level=OrgLevel.PROVINCE)
    db.session.commit()
    found = provinces_of(
        db.session.connection(), [central.id, world.commune_a.id, world.province.id, loose.id]
    )
    assert found == {
        world.commune_a.id: world.province.id,
        world.province.id: world.province.id,
        loose.id: loose.id,
    }
    assert TODAY and H1  # the shared period and day of the national tests
