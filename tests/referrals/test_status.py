"""Every (from, to, role) combination of the referral status machine, pure and through the service.

EXPECTED is written out here from DESIGN.md "Referrals" independently of app/referrals/status.py,
except that partners never cancel (issue #13: they accept, decline, waitlist, start and record the
outcome; the issue overrides DESIGN.md's "caseworker or partner" for "any open -> cancelled").
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.permissions import Actor, PermissionDenied, Role
from app.referrals import services
from app.referrals.models import Referral, ReferralEvent
from app.referrals.status import Party, ReferralStatus, is_allowed, is_terminal, next_statuses
from tests.conftest import audit_actions

STATUSES = [s.value for s in ReferralStatus]
OPEN = ("draft", "requested", "accepted", "in-progress", "on-hold")
WORKING = ("accepted", "in-progress", "on-hold")
CW, PA, SY = "caseworker", "partner", "system"

EXPECTED: dict[tuple[str, str], set[str]] = {
    ("draft", "requested"): {CW},
    ("requested", "accepted"): {PA, CW},
    ("requested", "rejected"): {PA, CW},
    ("requested", "cancelled"): {CW, SY},
    ("accepted", "in-progress"): {PA, CW},
    ("accepted", "on-hold"): {PA, CW},
    **{(s, "completed"): {PA, CW} for s in WORKING},
    **{(s, "failed"): {PA, CW} for s in WORKING},
    ("draft", "cancelled"): {CW},
    **{(s, "cancelled"): {CW} for s in WORKING},
    **{(s, "entered-in-error"): {CW} for s in STATUSES if s != "entered-in-error"},
}
ROLES = ("caseworker", "partner", "partner_other", "system", "volunteer", "supervisor", "admin")
PARTY = {"caseworker": CW, "partner": PA, "system": SY}

COMBINATIONS = [(f, t, r) for f in STATUSES for t in STATUSES for r in ROLES]


@pytest.mark.parametrize(("frm", "to", "role"), COMBINATIONS)
def test_pure_table(frm, to, role):
    party = Party(PARTY[role]) if role in PARTY else None
    assert is_allowed(frm, to, party) is (PARTY.get(role) in EXPECTED.get((frm, to), set()))


def test_terminal_states_only_go_to_entered_in_error():
    for status in ("rejected", "cancelled", "completed", "failed", "entered-in-error"):
        assert is_terminal(status)
        for party in Party:
            assert set(next_statuses(ReferralStatus(status), party)) <= {
                ReferralStatus.ENTERED_IN_ERROR
            }
    assert not any(is_terminal(s) for s in OPEN)


def _data(to: str, role: str) -> services.TransitionInput:
    return {
        "rejected": services.TransitionInput(reason_code="not_eligible"),
        "failed": services.TransitionInput(reason_code="no_show"),
        "cancelled": services.TransitionInput(
            reason_code="expired_no_response" if role == "system" else "client_declined"
        ),
        "completed": services.TransitionInput(
            outcome="service_received", service_date=date.today(), verified_by="Lễ tân"
        ),
        "entered-in-error": services.TransitionInput(note="Gửi nhầm cơ sở"),
    }.get(to, services.TransitionInput())


def test_service_matches_table_for_every_combination(loop, world):
    actors = {
        "caseworker": Actor.from_user(world.users["caseworker"]),
        "partner": Actor.from_user(loop.partner),
        "partner_other": Actor.from_user(loop.partner_b),
        "system": Actor.system("cron"),
        "volunteer": Actor.from_user(world.users["volunteer"]),
        "supervisor": Actor.from_user(world.users["supervisor"]),
        "admin": Actor.from_user(world.users["admin"]),
    }
    referral = services.create_referral(
        actors["caseworker"], loop.case, loop.need, loop.hiv_testing, fields=["need"]
    )
    db.session.commit()
    for frm, to, role in COMBINATIONS:
        allowed = PARTY.get(role) in EXPECTED.get((frm, to), set())
        savepoint = db.session.begin_nested()
        referral.status = frm
        referral.sent_at = None if frm == "draft" else referral.created_at
        db.session.flush()
        events_before = db.session.scalar(sa.select(sa.func.count(ReferralEvent.id)))
        try:
            services.transition(actors[role], referral, to, _data(to, role), today=date.today())
        except (services.InvalidTransition, PermissionDenied):
            assert not allowed, (frm, to, role)
            savepoint.rollback()
            continue
        assert allowed, (frm, to, role)
        assert referral.status == to
        assert db.session.scalar(sa.select(sa.func.count(ReferralEvent.id))) == events_before + 1
        last = db.session.scalars(
            sa.select(ReferralEvent).order_by(ReferralEvent.id.desc())
        ).first()
        assert (last.from_status, last.to_status) == (frm, to)
        # Service received also meets the open need the referral served (issue #13.5).
        expected = [f"referral.{to}", "need.updated"] if to == "completed" else [f"referral.{to}"]
        assert audit_actions()[-len(expected) :] == expected
        partner_answer = to in (
            "accepted",
            "rejected",
            "in-progress",
            "on-hold",
            "completed",
            "failed",
        )
        assert last.recorded_by_caseworker is (role == "caseworker" and partner_answer)
        savepoint.rollback()
        db.session.expire_all()


@pytest.mark.parametrize(
    ("to", "data", "message"),
    [
        ("rejected", services.TransitionInput(), "lý do"),
        ("rejected", services.TransitionInput(reason_code="expired_no_response"), "lý do"),
        ("cancelled", services.TransitionInput(reason_code="service_received"), "lý do"),
    ],
)
def test_reason_code_required(loop, world, to, data, message):
    cw = Actor.from_user(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral, today=date(2026, 2, 1))
    # Partners no longer cancel: the caseworker's cancellation is what needs a valid reason.
    who = world.users["caseworker"] if to == "cancelled" else loop.partner
    with pytest.raises(services.ReferralError, match=message):
        services.transition(Actor.from_user(who), referral, to, data)
    assert referral.status == "requested"


def test_completion_needs_outcome_date_and_caseworker_names_who_verified(loop, world):
    cw = Actor.from_user(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral, today=date(2026, 2, 1))
    services.transition(cw, referral, "accepted")
    with pytest.raises(services.ReferralError):
        services.transition(
            cw,
            referral,
            "completed",
            services.TransitionInput(outcome="waitlisted", service_date=date.today()),
        )
    with pytest.raises(services.ReferralError):
        services.transition(cw, referral, "completed", services.TransitionInput(outcome="enrolled"))
    with pytest.raises(services.ReferralError):  # caseworker: who verified it?
        services.transition(
            cw,
            referral,
            "completed",
            services.TransitionInput(outcome="enrolled", service_date=date.today()),
        )
    services.transition(
        cw,
        referral,
        "completed",
        services.TransitionInput(
            outcome="enrolled", service_date=date.today(), verified_by="Cô Hoa, lễ tân"
        ),
    )
    assert (referral.status, referral.outcome, referral.completed_on) == (
        "completed",
        "enrolled",
        date.today(),
    )
    assert referral.events[-1].recorded_by_caseworker


def test_send_sets_respond_by_from_response_time(loop, world):
    cw = Actor.from_user(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral, today=date(2026, 3, 10))
    assert referral.respond_by == date(2026, 3, 13)  # the service answers within 3 days
    assert [e.to_status for e in referral.events] == ["draft", "requested"]
    assert db.session.get(Referral, referral.id).sent_at is not None


def test_on_hold_records_waitlisted(loop, world):
    cw = Actor.from_user(world.users["caseworker"])
    partner = Actor.from_user(loop.partner)
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral)
    services.transition(partner, referral, "accepted")
    services.transition(partner, referral, "on-hold")
    assert referral.reason_code == "waitlisted"
    assert Role.PARTNER == referral.events[-1].actor_role
