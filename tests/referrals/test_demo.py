"""The demo: a directory for the demo province, the partner user attached, every status."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.orgs.models import User
from app.referrals.models import PartnerOrganization, PartnerService, Referral
from app.referrals.status import ReferralStatus


def test_demo_seeds_directory_partner_and_every_status():
    from app.cases import demo as cases_demo
    from app.orgs import demo as orgs_demo
    from app.referrals import demo, hsds, hsds_export

    orgs_demo.seed("demo passphrase for the suite 2026")
    cases_demo.seed("demo passphrase for the suite 2026")
    demo.seed("demo passphrase for the suite 2026")
    db.session.flush()
    assert db.session.scalar(sa.select(sa.func.count(PartnerOrganization.id))) == 7
    categories = set(db.session.scalars(sa.select(PartnerService.category)))
    assert {
        "health",
        "legal_aid",
        "vocational_training",
        "loans",
        "jobs",
        "counselling",
        "violence_support",
    } <= categories
    partner = db.session.scalar(sa.select(User).where(User.username == "partner"))
    assert partner.partner_organization_id is not None
    statuses = set(db.session.scalars(sa.select(Referral.status)))
    assert statuses == {s.value for s in ReferralStatus}
    assert hsds.validation_errors(hsds_export.export_document()) == []
    # Idempotent.
    count = db.session.scalar(sa.select(sa.func.count(Referral.id)))
    demo.seed("demo passphrase for the suite 2026")
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == count
    assert db.session.scalar(sa.select(sa.func.count(PartnerOrganization.id))) == 7
