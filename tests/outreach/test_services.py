"""Services without HTTP: logging, idempotency, the rules, the 7-day window, soft delete."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.outreach import services
from app.outreach.models import OutreachActivity, OutreachTopic
from app.outreach.services import Entry
from app.permissions import Actor, PermissionDenied
from tests.conftest import audit_actions
from tests.outreach.conftest import TODAY


def entry(unit_id, **overrides) -> Entry:
    values = {
        "org_unit_id": unit_id,
        "held_on": TODAY,
        "form": "group_talk",
        "place": "community",
        "topics": ["hiv_sti"],
        "reached": {"public": 12, "students": 3},
    }
    values.update(overrides)
    return Entry(**values)


def count() -> int:
    return db.session.execute(sa.select(sa.func.count(OutreachActivity.id))).scalar_one()


def test_volunteer_logs_an_activity_with_topics_in_child_table(world, clock):
    actor = Actor.from_user(world.users["volunteer"])
    activity, created = services.create_activity(actor, entry(world.commune_a.id), "key-00000001")
    assert created
    assert activity.reached_total == 15
    assert activity.created_by_id == world.users["volunteer"].id
    topics = db.session.execute(sa.select(OutreachTopic.topic)).scalars().all()
    assert topics == ["hiv_sti"]
    assert audit_actions()[-1] == "outreach.created"


def test_repeated_key_returns_the_first_entry(world, clock):
    actor = Actor.from_user(world.users["volunteer"])
    first, _ = services.create_activity(actor, entry(world.commune_a.id), "key-00000002")
    again, created = services.create_activity(
        actor, entry(world.commune_a.id, reached={"public": 99}), "key-00000002"
    )
    assert not created and again.id == first.id and again.reached_public == 12
    assert count() == 1
    assert audit_actions().count("outreach.created") == 1


def test_key_of_somebody_else_is_a_conflict(world, clock):
    services.create_activity(
        Actor.from_user(world.users["volunteer"]), entry(world.commune_a.id), "key-00000003"
    )
    with pytest.raises(services.KeyConflict):
        services.create_activity(
            Actor.from_user(world.users["caseworker"]), entry(world.commune_a.id), "key-00000003"
        )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"reached": {"public": -1}}, "reached_public"),
        ({"reached": {"public": 100_001}}, "reached_public"),
        ({"reached": {}}, "reached"),
        ({"reached": {"public": 0, "students": 0}}, "reached"),
        ({"held_on": TODAY + timedelta(days=1)}, "held_on"),
        ({"held_on": TODAY - timedelta(days=366)}, "held_on"),
        ({"held_on": None}, "held_on"),
        ({"form": "karaoke"}, "form"),
        ({"place": "moon"}, "place"),
        ({"topics": ["gossip"]}, "topics"),
        ({"topics": []}, "topics"),
        ({"notes": "x" * 501}, "notes"),
    ],
)
def test_bad_entries_are_refused_and_nothing_saved(world, clock, overrides, field):
    actor = Actor.from_user(world.users["volunteer"])
    with pytest.raises(services.InvalidEntry) as exc:
        services.create_activity(actor, entry(world.commune_a.id, **overrides), "key-bad-0001")
    assert field in exc.value.errors
    assert count() == 0


def test_caseworker_may_record_older_events_than_a_volunteer(world, clock):
    old = TODAY - timedelta(days=400)
    actor = Actor.from_user(world.users["caseworker"])
    activity, _ = services.create_activity(
        actor, entry(world.commune_a.id, held_on=old), "key-old-1"
    )
    assert activity.held_on == old


def test_commune_outside_scope_is_refused(world, clock):
    actor = Actor.from_user(world.users["volunteer"])
    with pytest.raises(PermissionDenied):
        services.create_activity(actor, entry(world.commune_b.id), "key-scope-1")
    assert count() == 0


def test_volunteer_edits_own_entry_for_seven_days_then_only_caseworker(world, clock):
    volunteer = Actor.from_user(world.users["volunteer"])
    activity, _ = services.create_activity(volunteer, entry(world.commune_a.id), "key-edit-01")
    clock.advance(days=6, hours=23)
    assert services.update_activity(
        volunteer, activity, entry(world.commune_a.id, reached={"public": 20})
    ) == ["reached_public", "reached_students"]
    clock.advance(hours=2)
    with pytest.raises(PermissionDenied):
        services.update_activity(volunteer, activity, entry(world.commune_a.id))
    with pytest.raises(PermissionDenied):
        services.delete_activity(volunteer, activity)
    caseworker = Actor.from_user(world.users["caseworker"])
    services.update_activity(caseworker, activity, entry(world.commune_a.id, form="leaflets"))
    assert activity.form == "leaflets"
    with pytest.raises(PermissionDenied):
        services.update_activity(
            Actor.from_user(world.users["caseworker_b"]), activity, entry(world.commune_a.id)
        )
    assert audit_actions()[-2:] == ["outreach.updated", "outreach.updated"]


def test_volunteer_cannot_edit_a_teammates_entry(world, clock):
    from tests.factories import UserFactory

    teammate = UserFactory(username="teammate", role="volunteer", org_unit=world.commune_a)
    activity, _ = services.create_activity(
        Actor.from_user(teammate), entry(world.commune_a.id), "key-team-01"
    )
    with pytest.raises(PermissionDenied):
        services.update_activity(
            Actor.from_user(world.users["volunteer"]), activity, entry(world.commune_a.id)
        )


def test_delete_is_soft_and_audited(world, clock):
    actor = Actor.from_user(world.users["volunteer"])
    activity, _ = services.create_activity(actor, entry(world.commune_a.id), "key-del-001")
    services.delete_activity(actor, activity)
    assert activity.deleted_at == clock.now
    assert count() == 1
    assert audit_actions()[-1] == "outreach.deleted"
    with pytest.raises(PermissionDenied):
        services.delete_activity(actor, activity)


def test_unchanged_update_records_nothing(world, clock):
    actor = Actor.from_user(world.users["volunteer"])
    activity, _ = services.create_activity(actor, entry(world.commune_a.id), "key-same-01")
    assert services.update_activity(actor, activity, entry(world.commune_a.id)) == []
    assert "outreach.updated" not in audit_actions()


def test_audit_details_carry_no_notes(world, clock):
    from app.audit.models import AuditEvent

    actor = Actor.from_user(world.users["volunteer"])
    activity, _ = services.create_activity(
        actor, entry(world.commune_a.id, notes="Chị Lan ở xóm 3"), "key-note-01"
    )
    services.update_activity(actor, activity, entry(world.commune_a.id, notes="Khác"))
    events = db.session.execute(sa.select(AuditEvent)).scalars().all()
    assert {"outreach.created", "outreach.updated"} <= {e.action for e in events}
    assert all("Lan" not in str(e.details) and "Khác" not in str(e.details) for e in events)


def test_racing_delivery_of_the_same_key_returns_the_winner(world, clock, monkeypatch):
    """Two deliveries of one entry both find no row, both insert: the loser gets the winner."""
    from app.outreach import queries

    actor = Actor.from_user(world.users["volunteer"])
    winner, _ = services.create_activity(actor, entry(world.commune_a.id), "key-race-001")
    real_find = queries.find_by_key
    calls = []

    def find_too_early(key):
        calls.append(key)
        return None if len(calls) == 1 else real_find(key)

    monkeypatch.setattr(queries, "find_by_key", find_too_early)
    loser, created = services.create_activity(actor, entry(world.commune_a.id), "key-race-001")
    assert not created and loser.id == winner.id and len(calls) == 2
    assert count() == 1
    assert audit_actions().count("outreach.created") == 1
