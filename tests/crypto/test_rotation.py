"""`flask keys rotate / retire / status`: re-wrap data keys, never data; resumable; audited."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa
from flask import g

from app.crypto import rotation
from app.crypto.envelope import create_data_key, destroy_data_key, unseal
from app.crypto.keyring import keyring
from app.crypto.models import DataKey
from app.extensions import db
from app.permissions import Actor
from tests.conftest import audit_actions
from tests.crypto.conftest import read_key_file, sealed_values

CLI = Actor.system("cli")


def versions_in_db() -> dict[int, int]:
    table = DataKey.__table__
    rows = db.session.execute(
        sa.select(table.c.master_version, sa.func.count())
        .where(table.c.wrapped_key.is_not(None))
        .group_by(table.c.master_version)
    )
    return dict(rows.all())


def all_open(items) -> bool:
    db.session.expire_all()
    g.pop("_caunoi_data_keys", None)
    for key, row_id, sealed, text in items:
        key = db.session.get(DataKey, key.id)
        if unseal(key, sealed, table="cases", column="full_name", row_id=row_id) != text:
            return False
    return True


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def test_rotate_rewraps_every_data_key_and_old_ciphertexts_still_open(app, key_file, runner):
    items = sealed_values(5)
    destroyed = create_data_key()
    destroy_data_key(destroyed)
    wrapped_before = {key.id: key.wrapped_key for key, *_ in items}
    db.session.commit()

    result = runner.invoke(args=["keys", "rotate", "--batch-size", "2"])

    assert result.exit_code == 0, result.output
    assert "Re-wrapping 5 data key(s) under master key version 2" in result.output
    assert "Master key version 2 is current; 5 data key(s) re-wrapped" in result.output
    stored = read_key_file(key_file)
    assert stored["current_master_version"] == 2
    assert sorted(stored["master_keys"]) == ["1", "2"]
    assert versions_in_db() == {2: 5}
    db.session.expire_all()
    for key_id, before in wrapped_before.items():
        assert db.session.get(DataKey, key_id).wrapped_key != before
    assert db.session.get(DataKey, destroyed.id).wrapped_key is None  # never resurrected
    assert all_open(items)
    # one event for the new version, one per committed batch (2 + 2 + 1)
    assert audit_actions().count("key.rotated") == 4
    assert create_data_key().master_version == 2  # the app picked up the new key file


def test_rotation_events_carry_versions_and_counts(app, key_file):
    from app.audit.models import AuditEvent

    sealed_values(3)
    rotation.rotate_master_key(CLI, app.config, batch_size=10)
    events = db.session.execute(
        sa.select(AuditEvent).where(AuditEvent.action == "key.rotated").order_by(AuditEvent.seq)
    ).scalars()
    details = [json.loads(e.details) for e in events]
    assert details == [
        {"count": 0, "key_version": 2, "status": "version_added"},
        {"count": 3, "key_version": 2, "old_key_version": [1], "status": "rewrapped"},
    ]


def test_retire_refuses_while_in_use_then_succeeds(app, key_file, runner):
    items = sealed_values(3)
    db.session.commit()
    # A rotation that stopped right after adding the new version: nothing re-wrapped yet.
    rotation.prepare_rotation(CLI, app.config)
    assert versions_in_db() == {1: 3}

    refused = runner.invoke(args=["keys", "retire", "1"])
    assert refused.exit_code != 0
    assert "3 data key(s) and 0 account secret(s) still use master key version 1" in refused.output
    assert "1" in read_key_file(key_file)["master_keys"]
    assert "key.retired" not in audit_actions()

    current = runner.invoke(args=["keys", "retire", "2"])
    assert current.exit_code != 0 and "is the current version" in current.output

    resumed = runner.invoke(args=["keys", "rotate"])
    assert resumed.exit_code == 0, resumed.output
    assert "continuing an unfinished rotation" in resumed.output

    retired = runner.invoke(args=["keys", "retire", "1"])
    assert retired.exit_code == 0, retired.output
    stored = read_key_file(key_file)
    assert list(stored["master_keys"]) == ["2"]
    assert stored["retired_versions"] == [1]
    assert audit_actions()[-1] == "key.retired"
    assert all_open(items)

    again = runner.invoke(args=["keys", "retire", "1"])
    assert again.exit_code != 0 and "already retired" in again.output
    unknown = runner.invoke(args=["keys", "retire", "9"])
    assert unknown.exit_code != 0 and "not in the key set" in unknown.output


def test_destroyed_keys_do_not_block_retirement(app, key_file):
    key = create_data_key()
    destroy_data_key(key)
    rotation.rotate_master_key(CLI, app.config)
    rotation.retire_master_version(CLI, app.config, 1)
    assert list(read_key_file(key_file)["master_keys"]) == ["2"]


def test_rotation_resumes_after_an_interruption(app, key_file):
    items = sealed_values(5)
    db.session.commit()

    class Crash(Exception):
        pass

    def crash_after_first_batch(count):
        raise Crash

    with pytest.raises(Crash):
        rotation.rotate_master_key(CLI, app.config, batch_size=2, on_batch=crash_after_first_batch)
    db.session.rollback()
    assert versions_in_db() == {1: 3, 2: 2}  # the first batch was committed
    assert all_open(items)  # mid-rotation, keys under both versions open

    result = rotation.rotate_master_key(CLI, app.config, batch_size=2)

    assert not result.version_added
    assert result.key_version == 2 and result.rewrapped == 3
    assert sorted(read_key_file(key_file)["master_keys"]) == ["1", "2"]  # no second new version
    assert versions_in_db() == {2: 5}
    assert all_open(items)
    # Once finished, the next rotation is a new one.
    assert rotation.rotate_master_key(CLI, app.config).key_version == 3


def test_rotation_stops_on_a_key_it_cannot_unwrap(app, key_file):
    items = sealed_values(2)
    items[1][0].wrapped_key = items[0][0].wrapped_key  # corrupt: wrapped for another row
    db.session.commit()
    with pytest.raises(rotation.KeyOperationError, match=f"data key {items[1][0].id}"):
        rotation.rotate_master_key(CLI, app.config, batch_size=10)
    db.session.rollback()
    assert versions_in_db() == {1: 2}  # the failing batch changed nothing


def test_production_keys_in_environment_rotate_in_two_steps(app, key_file, runner, monkeypatch):
    items = sealed_values(2)
    db.session.commit()
    original = key_file.read_text()
    monkeypatch.setenv("CAUNOI_KEYS", original)

    printed = runner.invoke(args=["keys", "rotate"])

    assert printed.exit_code == 0, printed.output
    new_keys = json.loads(printed.stdout)
    assert new_keys["current_master_version"] == 2
    assert "store the JSON below as CAUNOI_KEYS" in printed.stderr
    assert key_file.read_text() == original  # nothing written
    assert versions_in_db() == {1: 2}  # nothing re-wrapped yet

    monkeypatch.setenv("CAUNOI_KEYS", printed.stdout)  # the operator stores it and restarts
    rewrapped = runner.invoke(args=["keys", "rotate"])
    assert rewrapped.exit_code == 0, rewrapped.output
    assert "continuing an unfinished rotation" in rewrapped.output
    assert versions_in_db() == {2: 2}
    assert keyring().current_master_version == 2
    assert all_open(items)

    retired = runner.invoke(args=["keys", "retire", "1"])
    assert retired.exit_code == 0, retired.output
    assert list(json.loads(retired.stdout)["master_keys"]) == ["2"]
    assert key_file.read_text() == original


def test_rotate_help_documents_the_environment_case(runner):
    result = runner.invoke(args=["keys", "rotate", "--help"])
    assert result.exit_code == 0
    assert "CAUNOI_KEYS" in result.output and "prints the new key set JSON" in result.output


def test_status_lists_versions_and_counts(app, key_file, runner):
    sealed_values(3)
    destroy_data_key(create_data_key())
    rotation.prepare_rotation(CLI, app.config)
    rotation.rewrap_batch(CLI, keyring(), 1)
    db.session.commit()

    result = runner.invoke(args=["keys", "status"])

    assert result.exit_code == 0, result.output
    assert "current master key version 2" in result.output
    assert "v1: older; 2 data key(s), 1 destroyed" in result.output
    assert "v2: current; 1 data key(s), 0 destroyed" in result.output
    assert "2 data key(s) still to re-wrap" in result.output


def test_a_key_destroyed_during_rotation_stays_destroyed(app, key_file, monkeypatch):
    items = sealed_values(3)
    first, victim = items[0][0].id, items[2][0].id
    db.session.commit()
    table = DataKey.__table__
    real_wrap = rotation.wrap_key

    def wrap_while_a_case_is_erased(raw, key_id, version, master):
        if key_id == first:  # the batch is read, not yet written: the case is erased now
            db.session.execute(
                sa.update(table).where(table.c.id == victim).values(wrapped_key=None)
            )
        return real_wrap(raw, key_id, version, master)

    monkeypatch.setattr(rotation, "wrap_key", wrap_while_a_case_is_erased)
    result = rotation.rotate_master_key(CLI, app.config, batch_size=10)

    row = db.session.execute(sa.select(table).where(table.c.id == victim)).one()
    assert row.wrapped_key is None and row.master_version == 1  # not resurrected
    assert versions_in_db() == {2: 2}
    assert result.rewrapped == 3  # planned in the batch; the compare-and-set skipped one


def test_rotation_stops_if_the_new_key_changes_under_it(app, key_file):
    from app.crypto.keyring import load_keyring, write_key_file

    sealed_values(3)
    db.session.commit()
    ring, result, pending = rotation.prepare_rotation(CLI, app.config)
    assert pending == 3
    # Another rotation overwrote version 2 with a different key: wrapping must not continue.
    clobbered = rotation.with_new_version(load_keyring(app.config))
    clobbered.master_keys[2] = clobbered.master_keys.pop(3)
    clobbered.current_master_version = 2
    write_key_file(key_file, clobbered)
    with pytest.raises(rotation.KeyOperationError, match="changed in the key set"):
        rotation.rewrap_all(CLI, ring, result, batch_size=1, config=app.config)
    db.session.rollback()
    assert versions_in_db() == {1: 3}


def test_key_file_changes_are_serialized_by_a_lock(app, key_file):
    import fcntl
    import os

    lock_path = key_file.with_name(key_file.name + ".lock")
    with rotation.key_set_lock(app.config):
        fd = os.open(lock_path, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(fd)
    fd = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free again afterwards
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
