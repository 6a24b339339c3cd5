"""Case changes someone else must act on: assignment, a transfer to accept, its completion,
a consent withdrawn on my case."""

from __future__ import annotations

import sqlalchemy as sa

from app.cases import services as cases
from app.extensions import db
from app.notifications.kinds import Kind
from app.notifications.models import Notification
from tests.factories import UserFactory
from tests.referrals.conftest import actor


def _kinds(user) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(Notification.kind)
            .where(Notification.user_id == user.id)
            .order_by(Notification.id)
        )
    )


def test_assignment_tells_the_assignee_not_the_assigner(loop, world):
    cw = world.users["caseworker"]
    volunteer = world.users["volunteer"]
    cases.assign_case(actor(cw), loop.case, volunteer.id)
    assert _kinds(volunteer) == [Kind.CASE_ASSIGNED]
    note = db.session.scalar(sa.select(Notification))
    assert note.link == f"/cases/{loop.case.code}"
    cases.assign_case(actor(cw), loop.case, cw.id)
    assert _kinds(cw) == []  # she assigned it to herself


def test_a_transfer_tells_the_receiving_unit_and_then_the_requester(loop, world):
    cw, cw_b = world.users["caseworker"], world.users["caseworker_b"]
    other = UserFactory(username="cw_elsewhere", role="caseworker", org_unit=world.province)
    cases.request_transfer(actor(cw), loop.case, world.district_b.id)
    assert _kinds(cw_b) == [Kind.TRANSFER_REQUESTED]
    assert _kinds(other) == []  # the unit itself has a caseworker: only hers
    cases.accept_transfer(actor(cw_b), loop.case)
    assert _kinds(cw) == [Kind.CASE_TRANSFERRED]


def test_a_transfer_to_a_unit_without_caseworkers_goes_to_the_unit_above(loop, world):
    cases.request_transfer(actor(world.users["caseworker"]), loop.case, world.commune_b.id)
    assert _kinds(world.users["caseworker_b"]) == [Kind.TRANSFER_REQUESTED]


def test_consent_withdrawn_by_someone_else_tells_the_assigned_caseworker(loop, world):
    cw = world.users["caseworker"]
    colleague = UserFactory(username="cw_colleague", role="caseworker", org_unit=world.district_a)
    loop.case.assigned_to_id = cw.id
    db.session.flush()
    consent = next(c for c in loop.case.consents if c.purpose == "contact_phone")
    cases.withdraw_consent(actor(colleague), loop.case, consent, reason="her_request")
    assert _kinds(cw) == [Kind.CONSENT_WITHDRAWN]
