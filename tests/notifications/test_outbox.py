"""Referral and case changes write their notifications in the same transaction (the outbox)."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.notifications.kinds import Kind
from app.notifications.models import Delivery, Notification
from app.referrals import services
from app.referrals.models import Referral
from app.referrals.notices import remind
from tests.notifications.conftest import give_settings
from tests.referrals.conftest import actor


def _notes(user=None, kind=None) -> list[Notification]:
    stmt = sa.select(Notification).order_by(Notification.id)
    if user is not None:
        stmt = stmt.where(Notification.user_id == user.id)
    if kind is not None:
        stmt = stmt.where(Notification.kind == str(kind))
    return list(db.session.scalars(stmt))


def _sent_referral(loop, world, today=None):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral, today=today)
    return referral


def test_sending_a_referral_notifies_the_partner_organization_in_its_transaction(loop, world, smtp):
    give_settings(loop.partner)
    db.session.commit()
    referral = _sent_referral(loop, world)
    [note] = _notes(loop.partner)
    assert note.kind == Kind.REFERRAL_NEW and note.object_id == referral.id
    assert note.link == f"/referrals/{referral.id}"
    assert [d.channel for d in note.deliveries] == ["email"]
    assert _notes(world.users["caseworker"]) == []  # not the one who acted
    assert _notes(loop.partner_b) == []  # another organization hears nothing


def test_the_outbox_rolls_back_with_the_referral(loop, world, smtp):
    give_settings(loop.partner)
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    db.session.commit()
    services.send_referral(cw, referral)
    assert len(_notes(loop.partner)) == 1
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 1
    db.session.rollback()
    assert db.session.get(Referral, referral.id).status == "draft"
    assert _notes() == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Delivery)) == 0


def test_the_outbox_commits_with_the_referral_and_asks_the_worker(app, loop, world, smtp):
    from app import jobs

    give_settings(loop.partner)
    db.session.commit()
    _sent_referral(loop, world)
    assert jobs.backend().jobs == []  # not before the commit
    db.session.commit()
    assert [j.func_path for j in jobs.backend().jobs] == ["app.notifications.delivery:deliver_due"]


def test_each_answer_of_the_partner_notifies_the_caseworker(loop, world):
    referral = _sent_referral(loop, world)
    partner = actor(loop.partner)
    services.transition(partner, referral, "accepted")
    services.transition(partner, referral, "in-progress")
    notes = _notes(world.users["caseworker"])
    assert [n.kind for n in notes] == [Kind.REFERRAL_ANSWERED] * 2
    assert [n.params["status"] for n in notes] == ["accepted", "in-progress"]
    assert notes[0].params["case"] == loop.case.code
    assert _notes(loop.partner, Kind.REFERRAL_ANSWERED) == []


def test_a_caseworker_cancelling_tells_the_partner(loop, world):
    referral = _sent_referral(loop, world)
    services.transition(
        actor(world.users["caseworker"]),
        referral,
        "cancelled",
        services.TransitionInput(reason_code="client_declined"),
    )
    assert [n.kind for n in _notes(loop.partner)] == [Kind.REFERRAL_NEW, Kind.REFERRAL_CANCELLED]


def test_consent_withdrawal_cancels_and_tells_the_partner(loop, world):
    from app.cases import services as case_services

    referral = _sent_referral(loop, world)
    consent = next(c for c in loop.case.consents if c.purpose == "share:health")
    case_services.withdraw_consent(
        actor(world.users["caseworker"]), loop.case, consent, reason="her_request"
    )
    assert referral.status == "cancelled"
    assert _notes(loop.partner, Kind.REFERRAL_CANCELLED)


def test_a_draft_tells_nobody(loop, world):
    cw = actor(world.users["caseworker"])
    services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    assert _notes() == []


def test_reminders_are_written_once(loop, world):
    today = date.today()
    referral = _sent_referral(loop, world, today=today - timedelta(days=2))  # respond_by today+1
    referral.respond_by = today + timedelta(days=1)
    db.session.flush()
    assert remind(today) == 1
    assert remind(today) == 0
    assert [n.kind for n in _notes(loop.partner)][-1] == Kind.REFERRAL_DUE_SOON
    referral.respond_by = today - timedelta(days=1)
    db.session.flush()
    assert remind(today) == 2  # the partner and the caseworker
    assert remind(today) == 0
    assert _notes(world.users["caseworker"], Kind.REFERRAL_OVERDUE)


def test_expiry_tells_the_caseworker(loop, world):
    from app.permissions import Actor

    referral = _sent_referral(loop, world, today=date.today() - timedelta(days=10))
    services.expire_unanswered(Actor.system("referrals-expire"), date.today())
    assert referral.status == "cancelled"
    [note] = _notes(world.users["caseworker"], Kind.REFERRAL_EXPIRED)
    assert note.object_id == referral.id
    assert _notes(loop.partner, Kind.REFERRAL_CANCELLED) == []


def test_a_disabled_partner_user_is_not_notified(loop, world):
    loop.partner.is_enabled = False
    db.session.flush()
    _sent_referral(loop, world)
    assert _notes(loop.partner) == []
