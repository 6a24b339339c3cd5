"""Issue #13.5: what partners may do, a refused move stays on the referral's URL, and the need
a referral served becomes "Đã đáp ứng" (page and printout) until the caseworker reopens it."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases.models import Need
from app.extensions import db
from app.permissions import PermissionDenied
from app.referrals import services
from app.referrals.models import Referral
from app.referrals.services import InvalidTransition
from tests.referrals.conftest import actor, forget_signed_in_user


def _sent(loop, world):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral)
    db.session.commit()
    return referral


def _received(loop, referral):
    partner = actor(loop.partner)
    services.transition(partner, referral, "accepted")
    services.transition(
        partner,
        referral,
        "completed",
        services.TransitionInput(outcome="service_received", service_date=date.today()),
    )
    db.session.commit()


@pytest.mark.parametrize("status", ["requested", "accepted", "in-progress", "on-hold"])
def test_partner_is_never_offered_nor_allowed_to_cancel(client, loop, world, login_as, status):
    referral = _sent(loop, world)
    partner = actor(loop.partner)
    if status != "requested":
        services.transition(partner, referral, "accepted")
    if status in ("in-progress", "on-hold"):
        services.transition(partner, referral, status)
    db.session.commit()
    login_as(loop.partner)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Huỷ chuyển gửi" not in page
    response = client.post(
        f"/referrals/{referral.id}",
        data={
            "to": "cancelled",
            "cancelled-to": "cancelled",
            "cancelled-reason_code": "no_capacity",
        },
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == status
    with pytest.raises(InvalidTransition):
        services.transition(
            partner, referral, "cancelled", services.TransitionInput(reason_code="no_capacity")
        )


def test_partner_may_accept_decline_waitlist_start_and_record(loop, world):
    referral = _sent(loop, world)
    partner = actor(loop.partner)
    from app.referrals.permissions import party_of
    from app.referrals.status import ReferralStatus, next_statuses

    offered = set()
    for status in ReferralStatus:
        offered |= {s.value for s in next_statuses(status, party_of(partner, referral))}
    assert offered == {"accepted", "rejected", "on-hold", "in-progress", "completed", "failed"}


def test_refused_move_renders_on_the_referrals_own_url(client, loop, world, login_as):
    referral = _sent(loop, world)
    login_as(loop.partner)
    response = client.post(
        f"/referrals/{referral.id}", data={"to": "rejected", "rejected-to": "rejected"}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "Vui lòng chọn lý do" in page
    # Every form on the page posts to the referral's own address, so after a refusal the
    # address bar shows /referrals/<id>, never an action URL.
    assert f'action="/referrals/{referral.id}/transition"' not in page
    assert f'action="/referrals/{referral.id}"' in page
    # The older action URL answers a refusal with a redirect to the referral.
    legacy = client.post(
        f"/referrals/{referral.id}/transition", data={"to": "rejected", "rejected-to": "rejected"}
    )
    assert legacy.status_code == 303
    assert legacy.headers["Location"].endswith(f"/referrals/{referral.id}")
    assert "Vui lòng chọn lý do" in client.get(legacy.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "requested"


def test_service_received_meets_the_need_on_page_and_printout(client, loop, world, login_as):
    referral = _sent(loop, world)
    _received(loop, referral)
    need = db.session.get(Need, loop.need.id)
    assert (need.status, need.closed_on) == ("met", date.today())
    event = db.session.scalars(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "need.updated", AuditEvent.object_ref == loop.case.code)
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert event is not None and '"to_status":"met"' in event.details.replace(" ", "")
    forget_signed_in_user()
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{loop.case.code}").get_data(as_text=True)
    assert '<option value="met" selected>' in page
    printout = client.get(f"/cases/{loop.case.code}/print").get_data(as_text=True)
    assert "Đã đáp ứng" in printout


def test_failed_referral_leaves_the_need_open(loop, world):
    referral = _sent(loop, world)
    partner = actor(loop.partner)
    services.transition(partner, referral, "accepted")
    services.transition(
        partner, referral, "failed", services.TransitionInput(reason_code="no_show")
    )
    db.session.commit()
    assert db.session.get(Need, loop.need.id).status == "open"


def test_caseworker_reopens_a_met_need_audited(client, loop, world, login_as):
    referral = _sent(loop, world)
    _received(loop, referral)
    forget_signed_in_user()
    login_as(world.users["caseworker"])
    response = client.post(f"/cases/{loop.case.code}/needs/{loop.need.id}", data={"status": "open"})
    assert response.status_code == 302
    db.session.expire_all()
    need = db.session.get(Need, loop.need.id)
    assert (need.status, need.closed_on) == ("open", None)
    details = db.session.scalars(
        sa.select(AuditEvent.details)
        .where(AuditEvent.action == "need.updated")
        .order_by(AuditEvent.seq.desc())
    ).first()
    assert '"from_status":"met"' in details.replace(" ", "")
    # The reopened need can be referred again.
    again = services.create_referral(
        actor(world.users["caseworker"]), loop.case, need, loop.hiv_testing, fields=["need"]
    )
    assert again.status == "draft"


def test_partner_cannot_reopen_a_need(client, loop, world, login_as):
    referral = _sent(loop, world)
    _received(loop, referral)
    from app.cases import services as case_services

    with pytest.raises(PermissionDenied):
        case_services.set_need_status(
            actor(loop.partner), loop.case, db.session.get(Need, loop.need.id), "open"
        )
