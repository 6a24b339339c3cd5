"""audit.record / record_denial: the fields, the chain, the transaction they belong to."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.audit import services
from app.audit.chain import GENESIS_HASH, event_hash, head_mac, shard_of_path
from app.audit.models import AuditEvent, AuditShard
from app.audit.queries import case_access_history
from app.audit.verify import verify_connection
from app.crypto.keyring import keyring
from app.permissions import Actor
from tests.audit.conftest import ACTOR
from tests.conftest import audit_actions


def _events(db):
    return db.session.execute(sa.select(AuditEvent).order_by(AuditEvent.seq)).scalars().all()


def test_record_fills_every_field_and_chains(db, world):
    user = world.users["caseworker"]
    actor = Actor.from_user(user)
    first = services.record(actor, "user.updated", user, details={"changed_fields": ["role"]})
    second = services.record(
        actor, "case.viewed", object_type="case", object_ref="NB-2026-00042", reason="kiểm tra"
    )
    db.session.commit()
    assert (first.shard_seq, second.shard_seq) == (1, 2) and first.seq < second.seq
    assert first.shard == second.shard == shard_of_path(world.district_a.path)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert (first.actor_user_id, first.actor_username, first.actor_role) == (
        user.id,
        "caseworker",
        "caseworker",
    )
    assert (first.object_type, first.object_ref, first.org_unit_id) == (
        "user",
        "caseworker",
        world.district_a.id,
    )
    assert second.org_unit_id == world.district_a.id  # the actor's unit by default
    assert json.loads(first.details) == {"changed_fields": ["role"]}
    assert first.occurred_at.tzinfo is not None and first.outcome == "success"
    assert first.request_id is None and first.client_address is None  # no request here
    assert first.hash == event_hash(keyring().audit_key, first)
    head = db.session.get(AuditShard, first.shard)
    assert (head.last_seq, head.last_hash) == (2, second.hash)
    assert head.mac == head_mac(keyring().audit_key, head.shard, 2, second.hash)
    assert verify_connection(db.session.connection(), keyring().audit_key).ok


def test_hash_survives_the_database_round_trip(db, world):
    services.record(
        ACTOR,
        "case.viewed",
        object_type="case",
        object_ref="NB-2026-00001",
        reason="Lý do có dấu: ồ ạ",
        details={"filters": {"since": "2026-01-01"}},
    )
    db.session.commit()
    db.session.expire_all()
    (event,) = _events(db)
    assert event.hash == event_hash(keyring().audit_key, event)
    assert verify_connection(db.session.connection(), keyring().audit_key).checked == 1


def test_org_unit_object(db, world):
    event = services.record(Actor.from_user(world.users["admin"]), "org.renamed", world.commune_a)
    assert (event.object_type, event.object_ref, event.org_unit_id) == (
        "org_unit",
        "37-A1",
        world.commune_a.id,
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"action": "case.teleported"}, "unknown audit action"),
        ({"outcome": "maybe"}, "unknown audit outcome"),
        ({"details": {"full_name": "x"}}, "not allowed"),
        ({"details": {"filters": {"a": ["nested"]}}}, "plain values"),
        ({"details": {"rows": object()}}, "plain values"),
        ({"reason": "x" * 501}, "reason longer"),
        ({"object_ref": "x" * 81}, "object_ref longer"),
    ],
)
def test_record_refuses_bad_input(db, kwargs, message):
    args = {"action": "case.viewed", **kwargs}
    with pytest.raises(ValueError, match=message):
        services.record(ACTOR, args.pop("action"), **args)
    assert audit_actions() == []


def test_referral_status_actions_are_known(db):
    assert services.record(ACTOR, "referral.in-progress", object_type="referral").shard_seq == 1
    with pytest.raises(ValueError):
        services.record(ACTOR, "referral.teleported")


def test_rolled_back_action_leaves_no_event(db, world):
    from tests.factories import OrgUnitFactory

    unit = OrgUnitFactory(code="99", name="Tạm")
    services.record(Actor.from_user(world.users["admin"]), "org.created", unit)
    db.session.rollback()
    assert audit_actions() == []
    assert db.session.scalars(sa.select(AuditShard)).all() == []
    # The chain goes on from the head as if nothing happened.
    assert services.record(ACTOR, "audit.viewed").shard_seq == 1
    assert verify_connection(db.session.connection(), keyring().audit_key).ok


def test_denial_commits_on_its_own_and_discards_the_request_work(db, world):
    from tests.factories import OrgUnitFactory

    OrgUnitFactory(code="98", name="Chưa lưu")
    event = services.record_denial(ACTOR, object_type="case", object_ref="NB-2026-00007")
    db.session.rollback()  # whatever happens next, the denial stays
    assert audit_actions() == ["access.denied"]
    assert event.outcome == "denied" and event.object_ref == "NB-2026-00007"
    from app.orgs.models import OrgUnit

    assert db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == "98")).first() is None


@pytest.mark.parametrize(
    "ref, kept",
    [
        ("NB-2026-00042", True),
        ("37-A1", True),
        ("12345", True),
        ("0b7e6a84-54a5-4c59-9d54-6d2f0c6f4e1a", True),
        ("Nguyễn Thị Hoa", False),
        ("NGUYEN-THI-HOA", False),  # no digit: could be a name
        ("nguyen.thi.hoa", False),
        ("x" * 200, False),
    ],
)
def test_denial_keeps_only_pseudonymous_refs(db, ref, kept):
    event = services.record_denial(ACTOR, object_type="case", object_ref=ref)
    assert event.object_ref == (ref if kept else None)
    assert ("withheld" in json.loads(event.details)) is (not kept)


def test_request_fields_are_recorded(client, world, login_as):
    login_as(world.users["caseworker"])
    from tests.conftest import _db

    event = _db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "auth.sign_in")
    ).scalar_one()
    assert event.client_address == "127.0.0.1"
    assert event.request_id and len(event.request_id) == 16


def test_case_access_history(db, world):
    cw = Actor.from_user(world.users["caseworker"])
    admin = Actor.from_user(world.users["admin"])
    services.record(cw, "case.created", object_type="case", object_ref="NB-2026-00005")
    services.record(cw, "case.viewed", object_type="case", object_ref="NB-2026-00005")
    services.record(admin, "case.viewed", object_type="case", object_ref="NB-2026-00006")
    db.session.commit()
    services.record_denial(admin, object_type="case", object_ref="NB-2026-00005")
    history = case_access_history("NB-2026-00005")
    assert [(h.username, h.role, h.action) for h in history] == [
        ("caseworker", "caseworker", "case.viewed"),
        ("caseworker", "caseworker", "case.created"),
    ]
    assert isinstance(history[0].occurred_at, datetime)
    assert history[0].occurred_at.tzinfo is not None
    assert history[0].occurred_at <= datetime.now(UTC)
    assert len(case_access_history("NB-2026-00005", limit=1)) == 1


def test_missing_head_with_events_refuses_to_fork(committed):
    committed.append(2)
    committed.drop_guards()
    committed.execute("DELETE FROM audit_shards")
    with pytest.raises(services.AuditChainError):
        committed.append(1)


def test_missing_head_on_an_empty_chain_starts_it(committed):
    committed.drop_guards()
    committed.execute("DELETE FROM audit_shards")
    committed.append(2)
    assert committed.verify().ok


def test_under_the_central_unit_each_province_keeps_its_own_shard(db, world):
    """A national deployment puts every province under the central unit, so every path starts
    with its id: the shard is still the province's, and the chain verifies across the move."""
    from app.orgs import services as orgs
    from app.orgs.models import OrgLevel
    from tests.factories import OrgUnitFactory

    other = OrgUnitFactory(code="27", name="Tỉnh Bắc Ninh", level=OrgLevel.PROVINCE)
    actor = Actor.from_user(world.users["caseworker"])
    before = services.record(
        actor, "case.viewed", object_type="case", org_unit_id=world.commune_a.id
    )
    db.session.commit()
    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name="Trung ương")
    db.session.commit()
    db.session.refresh(world.commune_a)
    assert world.commune_a.path.startswith(central.path)
    events = [
        services.record(actor, "case.viewed", object_type="case", org_unit_id=unit.id)
        for unit in (world.commune_a, other, central)
    ]
    db.session.commit()
    assert [e.shard for e in events] == [world.province.id, other.id, central.id]
    assert before.shard == world.province.id
    assert services.shards_of_units(
        db.session.connection(), [world.commune_b.id, other.id]
    ) == sorted([world.province.id, other.id])
    assert verify_connection(db.session.connection(), keyring().audit_key).ok
