"""Referral expiry runs as a periodic job (it replaced the daily cron)."""

from __future__ import annotations

from datetime import date, timedelta

from app import jobs
from app.extensions import db
from app.referrals import services
from app.referrals.models import Referral
from app.referrals.tasks import expire_referrals
from tests.referrals.conftest import actor, loop  # noqa: F401  (fixture)


def test_the_expiry_job_cancels_overdue_referrals_once(app, loop, world):  # noqa: F811
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral, today=date.today() - timedelta(days=10))
    db.session.commit()
    assert "referrals-expire" in {p.name for p in jobs.periodic_jobs()}
    assert expire_referrals() == 1
    assert expire_referrals() == 0
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert referral.status == "cancelled" and referral.reason_code == "expired_no_response"
    assert referral.events[-1].actor_username == "referrals-expire"
