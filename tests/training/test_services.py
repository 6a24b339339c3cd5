"""The training rules without HTTP: recording, correcting, deleting, staff in post; audit."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.permissions import Actor, PermissionDenied
from app.training import services, staffing
from app.training.models import StaffInPost, TrainingSession
from tests.conftest import audit_actions
from tests.training.conftest import entry


def actor(world, name: str) -> Actor:
    return Actor.from_user(world.users[name])


def last_event(action: str) -> AuditEvent:
    return (
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq.desc())
        )
        .scalars()
        .first()
    )


def details(event: AuditEvent) -> dict:
    return json.loads(event.details)


def sessions() -> int:
    return db.session.scalar(sa.select(sa.func.count(TrainingSession.id)))


def test_a_caseworker_records_a_session_with_named_and_counted_attendees(world):
    e = entry(
        world.district_a,
        attendee_ids=[world.users["caseworker"].id, world.users["volunteer"].id],
        headcounts=[services.Headcount(world.commune_a.id, 3, 5)],
    )
    session = services.create_session(actor(world, "caseworker"), e)
    db.session.commit()
    assert {a.user_id for a in session.attendees} == set(e.attendee_ids)
    assert [(h.org_unit_id, h.officers, h.volunteers) for h in session.headcounts] == [
        (world.commune_a.id, 3, 5)
    ]
    event = last_event("training.created")
    assert event.object_type == "training_session" and event.object_ref == str(session.id)
    assert details(event)["org_unit"] == "37-A" and details(event)["via"] == "web"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"held_on": date(2026, 6, 11)}, "held_on"),
        ({"held_on": None}, "held_on"),
        ({"topic": "   "}, "topic"),
        ({"topic": "x" * 301}, "topic"),
        ({"organizer": "x" * 201}, "organizer"),
        ({"format": "radio"}, "format"),
        ({"headcounts": []}, "attendee_ids"),  # nobody attended
        ({"headcounts": [services.Headcount(None, -1, 0)]}, "headcounts"),
        ({"headcounts": [services.Headcount(None, 10_000, 0)]}, "headcounts"),
    ],
)
def test_a_wrong_entry_is_refused_with_a_vietnamese_message(world, overrides, field):
    base = {"headcounts": [services.Headcount(world.commune_a.id, 2, 0)]}
    with pytest.raises(services.InvalidEntry) as caught:
        services.create_session(
            actor(world, "caseworker"), entry(world.district_a, **(base | overrides))
        )
    assert field in caught.value.errors
    assert sessions() == 0


def test_attendees_come_from_the_holding_units_subtree(world):
    cw = actor(world, "caseworker")
    for attendee in ("caseworker_b", "partner", "admin"):
        e = entry(world.district_a, attendee_ids=[world.users[attendee].id])
        with pytest.raises(services.InvalidEntry) as caught:
            services.create_session(cw, e)
        assert "không thuộc đơn vị" in caught.value.errors["attendee_ids"]
    outside = entry(world.district_a, headcounts=[services.Headcount(world.commune_b.id, 2, 0)])
    with pytest.raises(services.InvalidEntry) as caught:
        services.create_session(cw, outside)
    assert "cấp dưới" in caught.value.errors["headcounts"]
    twice = entry(
        world.district_a,
        headcounts=[
            services.Headcount(world.commune_a.id, 2, 0),
            services.Headcount(world.commune_a.id, 1, 0),
        ],
    )
    with pytest.raises(services.InvalidEntry) as caught:
        services.create_session(cw, twice)
    assert "một dòng" in caught.value.errors["headcounts"]
    assert sessions() == 0


@pytest.mark.parametrize("role", ["volunteer", "partner", "supervisor", "auditor"])
def test_other_roles_cannot_record(world, role):
    e = entry(world.commune_a, headcounts=[services.Headcount(world.commune_a.id, 2, 0)])
    with pytest.raises(PermissionDenied):
        services.create_session(actor(world, role), e)


def test_a_caseworker_cannot_record_for_another_district(world):
    e = entry(world.district_b, headcounts=[services.Headcount(world.commune_b.id, 2, 0)])
    with pytest.raises(PermissionDenied):
        services.create_session(actor(world, "caseworker"), e)
    assert sessions() == 0


def test_correcting_a_session_audits_the_changed_fields_only(world):
    cw = actor(world, "caseworker")
    session = services.create_session(
        cw, entry(world.district_a, headcounts=[services.Headcount(world.commune_a.id, 2, 0)])
    )
    same = entry(world.district_a, headcounts=[services.Headcount(world.commune_a.id, 2, 0)])
    assert services.update_session(cw, session, same) == []
    changed = entry(
        world.district_a,
        topic="Pháp luật về phòng, chống mại dâm",
        headcounts=[services.Headcount(world.commune_a.id, 4, 1)],
    )
    assert services.update_session(cw, session, changed) == ["topic", "headcounts"]
    db.session.commit()
    assert [(h.officers, h.volunteers) for h in session.headcounts] == [(4, 1)]
    assert details(last_event("training.updated"))["changed_fields"] == ["headcounts", "topic"]
    assert audit_actions().count("training.updated") == 1
    with pytest.raises(PermissionDenied):
        services.update_session(actor(world, "caseworker_b"), session, changed)


def test_deleting_keeps_the_row_and_audits(world):
    cw = actor(world, "caseworker")
    session = services.create_session(
        cw, entry(world.district_a, headcounts=[services.Headcount(world.commune_a.id, 2, 0)])
    )
    with pytest.raises(PermissionDenied):
        services.delete_session(actor(world, "caseworker_b"), session)
    services.delete_session(cw, session)
    db.session.commit()
    assert session.deleted_at is not None and sessions() == 1
    assert last_event("training.deleted").object_ref == str(session.id)
    with pytest.raises(PermissionDenied):
        services.delete_session(cw, session)


def test_admins_enter_staff_in_post_audited(world, plan):
    admin = actor(world, "admin")
    changed = staffing.set_staff_in_post(
        admin, plan, {world.commune_b.id: 5, world.commune_a.id: None, world.province.id: 4}
    )
    db.session.commit()
    assert changed == ["37-A1", "37-B1"]
    assert staffing.staff_in_post(plan) == {
        world.province.id: 4,
        world.district_a.id: 3,
        world.district_b.id: 3,
        world.commune_b.id: 5,
    }
    event = last_event("plan.staffing_updated")
    assert event.object_type == "plan" and details(event)["count"] == 2
    assert staffing.set_staff_in_post(admin, plan, {world.province.id: 4}) == []


def test_staff_in_post_is_refused_to_others_and_checked(world, plan):
    for role in ("caseworker", "supervisor", "volunteer"):
        with pytest.raises(PermissionDenied):
            staffing.set_staff_in_post(actor(world, role), plan, {world.commune_a.id: 1})
    with pytest.raises(services.InvalidEntry):
        staffing.set_staff_in_post(actor(world, "admin"), plan, {world.commune_a.id: -1})
    other = world.commune_a.__class__(code="99", name="Tỉnh khác", level="province", path="/999/")
    db.session.add(other)
    db.session.flush()
    with pytest.raises(PermissionDenied):
        staffing.set_staff_in_post(actor(world, "admin"), plan, {other.id: 1})
    rows = db.session.scalars(sa.select(StaffInPost.officers).where(StaffInPost.plan_id == plan.id))
    assert sorted(rows) == [2, 3, 3, 4]
