"""The demo year of outreach: idempotent, and one commune below target."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.orgs import demo as orgs_demo
from app.orgs.models import OrgUnit
from app.outreach import demo, indicators, services
from app.outreach.models import OutreachActivity


def test_seed_is_idempotent_and_leaves_a_commune_below_target(db):
    orgs_demo.seed("demo passphrase, kept by the tests")
    demo.seed("demo passphrase, kept by the tests")
    first = db.session.execute(sa.select(sa.func.count(OutreachActivity.id))).scalar_one()
    demo.seed("demo passphrase, kept by the tests")
    again = db.session.execute(sa.select(sa.func.count(OutreachActivity.id))).scalar_one()
    assert first == again > 80
    province = db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == "37")).scalar_one()
    today = services.today()
    year = indicators.communes_with_activity(province, today - timedelta(days=364), today)
    recent = indicators.communes_with_activity(province, today - timedelta(days=120), today)
    assert year == (5, 5)
    assert recent[0] < recent[1] == 5
    assert (
        max(a.held_on for a in db.session.execute(sa.select(OutreachActivity)).scalars()) <= today
    )
