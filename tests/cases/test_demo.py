"""The demo cases: the story's cases in every demo commune, dated over the year, idempotent."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases import demo
from app.cases.models import Case, CaseSearchToken, Need
from app.extensions import db
from app.orgs import demo as orgs_demo
from app.orgs.models import OrgUnit
from tests.cases.conftest import count_rows

PASSWORD = "demo passphrase, kept by the tests"


def test_demo_cases_tell_the_story_and_are_idempotent():
    orgs_demo.seed(PASSWORD)
    demo.seed(PASSWORD)
    db.session.flush()
    today = demo.reference_day()
    rows = db.session.execute(
        sa.select(OrgUnit.code, Case.opened_on, Case.opened_at).join(
            OrgUnit, OrgUnit.id == Case.org_unit_id
        )
    ).all()
    per_commune = Counter(code for code, _on, _at in rows)
    assert per_commune == Counter(s.commune for s in demo.STORY)
    assert per_commune["37-C04"] >= 14 and 2 <= per_commune["37-C05"] <= 3
    assert per_commune["37-C01"] + per_commune["37-C02"] + per_commune["37-C03"] >= 30
    # Opened over most of a year, never in the future, and the needs on the intake day.
    opened = [on for _code, on, _at in rows]
    assert max(opened) <= today and min(opened) <= today - timedelta(days=300)
    assert len({(d.year, d.month) for d in opened}) >= 10
    assert all(at.date() == on for _code, on, at in rows)
    needs = db.session.execute(
        sa.select(Need.identified_on, Case.opened_on, Need.status).join(Case)
    ).all()
    assert all(identified == on for identified, on, _s in needs)
    assert Counter(s for *_d, s in needs)["declined"] >= 2
    # Generated names only, sealed like any case (never stored in the clear).
    case = db.session.scalars(sa.select(Case).order_by(Case.id)).first()
    assert case.full_name_enc
    assert db.session.scalar(
        sa.select(sa.func.count(CaseSearchToken.id)).where(CaseSearchToken.case_id == case.id)
    )
    before = (count_rows(Case), count_rows(Need), count_rows(AuditEvent))
    demo.seed(PASSWORD)
    db.session.flush()
    assert (count_rows(Case), count_rows(Need), count_rows(AuditEvent)) == before
