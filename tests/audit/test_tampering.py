"""Whoever holds only the database cannot change the trail unnoticed: verify names the event,
the shard and what is missing. The events of ACTOR (org unit 1) are in shard 1."""

from __future__ import annotations

import base64
import json

import pytest

from app.audit.chain import (
    CURRENT_FORMAT,
    GENESIS_HASH,
    STORED_COLUMNS,
    canonical,
    keyed_hash,
    unkeyed_hash,
)
from app.audit.checkpoints import Checkpoint
from app.permissions import Actor, Role

SHARD = 1
OTHER = Actor(user_id=2, username="other", role=Role.CASEWORKER, org_unit_id=2, org_path="/2/")


def _row(committed, position: int, shard: int = SHARD) -> tuple:
    columns = ", ".join(STORED_COLUMNS)
    return tuple(
        committed.execute(
            f"SELECT {columns} FROM audit_events WHERE shard = :s AND shard_seq = :p",  # noqa: S608
            {"s": shard, "p": position},
        )[0]
    )


def _head(committed, shard: int = SHARD) -> tuple:
    return tuple(
        committed.execute(
            "SELECT last_seq, last_hash, mac FROM audit_shards WHERE shard = :s", {"s": shard}
        )[0]
    )


def _tamper(committed, events: int, *statements: str) -> None:
    """Append `events`, then run `statements` as someone who can also drop the guards."""
    committed.append(events)
    committed.drop_guards()
    for sql in statements:
        committed.execute(sql)


def _insert_intruder_event(committed, position: int, after: tuple, hash_fn) -> str:
    """Insert event `position` of shard 1, linked after the row `after`, as an intruder with SQL
    access but no audit key would write it; returns the hash written."""
    seq = committed.execute("SELECT max(seq) FROM audit_events")[0][0] + 1
    values = [
        seq,
        SHARD,
        position,
        CURRENT_FORMAT,
        after[4],
        None,
        "intruder",
        "admin",
        None,
        "case.erased",
        "case",
        "NB-2026-00001",
        "success",
        None,
        None,
        None,
        "{}",
        after[18],
    ]
    digest = hash_fn(canonical(values))
    columns = ", ".join(STORED_COLUMNS)
    marks = ", ".join(f":{name}" for name in STORED_COLUMNS)
    committed.execute(
        f"INSERT INTO audit_events ({columns}) VALUES ({marks})",  # noqa: S608
        dict(zip(STORED_COLUMNS, [*values, digest], strict=True)),
    )
    return digest


def _append_forged(committed, hash_fn, *, move_head: bool) -> int:
    last = _head(committed)[0]
    digest = _insert_intruder_event(committed, last + 1, _row(committed, last), hash_fn)
    if move_head:
        committed.execute(
            "UPDATE audit_shards SET last_seq = :p, last_hash = :h WHERE shard = 1",
            {"p": last + 1, "h": digest},
        )
    return last + 1


def _first(result, shard: int = SHARD):
    return next(p for p in result.problems if p.shard == shard)


def test_untouched_chain_verifies(committed):
    committed.append(30)
    committed.append(4, actor=OTHER)
    result = committed.verify(batch_size=7)  # several batches, one partial
    assert result.ok, result.problems
    assert result.checked == 34
    assert {s: r.last_seq for s, r in result.shards.items()} == {1: 30, 2: 4}


# One value of the right type, different from what `record` wrote, for every stored column.
_CHANGES = {
    "seq": "seq + 1000",
    "shard": "7",
    "shard_seq": "1000",
    "format": "1",
    "occurred_at": None,  # per dialect, below
    "actor_user_id": "999",
    "actor_username": "'someone_else'",
    "actor_role": "'admin'",
    "org_unit_id": "999",
    "action": "'case.erased'",
    "object_type": "'user'",
    "object_ref": "'NB-2026-99999'",
    "outcome": "'denied'",
    "reason": "'rewritten'",
    "request_id": "'r1'",
    "client_address": "'10.0.0.9'",
    "details": "'[]'",
    "prev_hash": "'" + "f" * 64 + "'",
    "hash": "'" + "e" * 64 + "'",
}


def test_every_stored_column_is_listed():
    assert set(_CHANGES) == set(STORED_COLUMNS)


@pytest.mark.parametrize("column", STORED_COLUMNS)
def test_tampering_with_any_column_is_caught(committed, column):
    """One canonical serialization covers every column (an edit of any is named at event 3)."""
    change = _CHANGES[column]
    if column == "occurred_at":
        change = (
            "'2020-01-01 00:00:00.000000'"
            if committed.dialect == "sqlite"
            else "'2020-01-01T00:00:00Z'"
        )
    _tamper(
        committed,
        5,
        f"UPDATE audit_events SET {column} = {change} WHERE shard = 1 AND shard_seq = 3",  # noqa: S608
    )
    result = committed.verify()
    assert not result.ok, f"a change of {column} went unnoticed"
    problem = _first(result)
    assert problem.position == 3, problem
    assert problem.kind in ("edited", "missing", "broken_link"), problem
    result = committed.cli("audit", "verify")
    assert result.exit_code == 1 and "shard 1 event 3" in result.stderr


def test_edited_field_is_named(committed):
    _tamper(committed, 10, "UPDATE audit_events SET actor_username = 'x' WHERE shard_seq = 6")
    problem = committed.verify().problem
    assert (problem.shard, problem.position, problem.kind) == (1, 6, "edited")
    assert problem.seq is not None


def test_deleted_rows_range_is_named(committed):
    _tamper(committed, 10, "DELETE FROM audit_events WHERE shard_seq BETWEEN 4 AND 7")
    problem = committed.verify().problem
    assert (problem.position, problem.kind) == (4, "missing")
    assert "4–7" in problem.message


def test_swapped_rows_are_named(committed):
    _tamper(
        committed,
        10,
        "UPDATE audit_events SET shard_seq = -5 WHERE shard_seq = 5",
        "UPDATE audit_events SET shard_seq = 5 WHERE shard_seq = 6",
        "UPDATE audit_events SET shard_seq = 6 WHERE shard_seq = -5",
    )
    problem = committed.verify().problem
    assert (problem.position, problem.kind) == (5, "reordered")
    assert "event 6" in problem.message


def test_row_appended_with_plain_sha256_is_named(committed):
    committed.append(8)
    committed.drop_guards()
    position = _append_forged(committed, unkeyed_hash, move_head=False)
    problem = committed.verify().problem
    assert (problem.position, problem.kind) == (position, "forged")
    assert "without the audit key" in problem.message


def test_head_moved_without_the_key_is_named(committed):
    committed.append(8)
    committed.drop_guards()
    _append_forged(committed, lambda b: keyed_hash(b"k" * 32, b), move_head=True)
    kinds = {p.kind for p in committed.verify().problems}
    assert "edited" in kinds


def test_row_inserted_in_the_middle_is_named(committed):
    _tamper(
        committed,
        6,
        "UPDATE audit_events SET shard_seq = 7 WHERE shard_seq = 6",
        "UPDATE audit_events SET shard_seq = 6 WHERE shard_seq = 5",
        "UPDATE audit_events SET shard_seq = 5 WHERE shard_seq = 4",
    )
    _insert_intruder_event(committed, 4, _row(committed, 3), lambda b: keyed_hash(b"x" * 32, b))
    problem = committed.verify().problem
    assert (problem.position, problem.kind) == (4, "inserted")


def test_tail_cut_off_with_head_left_is_named(committed):
    _tamper(committed, 10, "DELETE FROM audit_events WHERE shard_seq > 7")
    problem = committed.verify().problem
    assert (problem.position, problem.kind) == (8, "truncated")
    assert "8–10" in problem.message


def test_tail_cut_off_and_head_rewound_is_caught_by_the_head_mac(committed):
    """Without any checkpoint: rewinding the head needs a MAC only the audit key makes."""
    _tamper(committed, 10, "DELETE FROM audit_events WHERE shard_seq > 7")
    committed.execute(
        "UPDATE audit_shards SET last_seq = 7, last_hash = :h WHERE shard = 1",
        {"h": _row(committed, 7)[18]},
    )
    problem = committed.verify(checkpoints=()).problem
    assert (problem.shard, problem.kind) == (1, "head_forged")


def test_tail_cut_off_and_head_replayed_is_caught_by_the_checkpoint(committed):
    """The attacker kept an old head row (with its valid MAC) and puts it back after cutting
    the tail: the automatic checkpoint written since says how far the shard had come."""
    committed.append(7)
    old_head = _head(committed)
    committed.append(3)
    result = committed.cli("audit", "checkpoint")  # also what a report export writes
    assert result.exit_code == 0, result.output
    assert committed.verify().ok
    committed.drop_guards()
    committed.execute("DELETE FROM audit_events WHERE shard = 1 AND shard_seq > 7")
    committed.execute(
        "UPDATE audit_shards SET last_seq = :n, last_hash = :h, mac = :m WHERE shard = 1",
        dict(zip("nhm", old_head, strict=True)),
    )
    assert committed.verify(checkpoints=()).ok  # only the checkpoint shows it
    problem = committed.verify().problem
    assert (problem.shard, problem.position, problem.kind) == (1, 8, "truncated")
    assert "events 8–10" in problem.message and "head was set back" in problem.message
    result = committed.cli("audit", "verify")
    assert result.exit_code == 1 and "shard 1 event 8 (truncated)" in result.stderr


def test_wipe_with_head_reset_is_caught(committed):
    committed.append(5)
    committed.cli("audit", "checkpoint")
    committed.drop_guards()
    committed.execute("DELETE FROM audit_events WHERE shard = 1")
    committed.execute(
        "UPDATE audit_shards SET last_seq = 0, last_hash = :h WHERE shard = 1",
        {"h": GENESIS_HASH},
    )
    problems = committed.verify().problems
    assert [(p.shard, p.position, p.kind) for p in problems] == [(1, 1, "truncated")]
    assert "events 1–5" in problems[0].message
    # Without the checkpoint, the head reset still lacks its MAC.
    assert committed.verify(checkpoints=()).problem.kind == "head_forged"


def test_removed_shard_is_named(committed):
    committed.append(3)
    committed.append(4, actor=OTHER)
    committed.cli("audit", "checkpoint")
    committed.drop_guards()
    committed.execute("DELETE FROM audit_events WHERE shard = 2")
    committed.execute("DELETE FROM audit_shards WHERE shard = 2")
    assert committed.verify(checkpoints=()).ok  # the rest of the trail is whole
    problems = committed.verify().problems
    assert [(p.shard, p.kind) for p in problems] == [(2, "shard_removed")]
    assert "events 1–4" in problems[0].message
    result = committed.cli("audit", "verify")
    assert result.exit_code == 1 and "shard 2 event 1 (shard_removed)" in result.stderr


def _checkpoint_lines(committed) -> list[str]:
    from app.audit.checkpoints import checkpoint_path

    with committed.app.app_context():
        return checkpoint_path().read_text().splitlines()


def _write_lines(committed, lines: list[str]) -> None:
    from app.audit.checkpoints import checkpoint_path

    with committed.app.app_context():
        checkpoint_path().write_text("\n".join(lines) + "\n")


def _reencode(line: str, change) -> str:
    body = json.loads(base64.urlsafe_b64decode(line + "=" * (-len(line) % 4)))
    change(body)
    raw = json.dumps(body, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    "change",
    [
        lambda b: b["heads"].__setitem__(0, [1, 2, b["heads"][0][2]]),  # a head moved back
        lambda b: b["heads"].pop(),  # a shard left out
        lambda b: b.__setitem__("at", "2020-01-01T00:00:00.000000Z"),
        lambda b: b.__setitem__("sig", "0" * 64),
    ],
    ids=["head", "shard", "time", "signature"],
)
def test_edited_checkpoint_is_refused(committed, change):
    committed.append(3)
    committed.append(2, actor=OTHER)
    committed.cli("audit", "checkpoint")
    lines = _checkpoint_lines(committed)
    assert len(lines) == 1 and committed.verify().ok
    _write_lines(committed, [_reencode(lines[0], change)])
    problem = committed.verify().problem
    assert (problem.shard, problem.kind) == (None, "checkpoint_refused")
    assert "line 1" in problem.message
    result = committed.cli("audit", "verify")
    assert result.exit_code == 1 and "checkpoint line 1" in result.stderr


def test_checkpoint_binds_every_shard_head_in_a_merkle_root(committed):
    committed.append(3)
    committed.append(2, actor=OTHER)
    result = committed.cli("audit", "checkpoint")
    checkpoint = Checkpoint.decode(result.stdout.strip(), committed.key())
    assert [h[:2] for h in checkpoint.heads] == [(0, 1), (1, 3), (2, 2)]  # 0: the CLI's event
    assert Checkpoint.decode(_checkpoint_lines(committed)[0], committed.key()) == checkpoint
    with pytest.raises(ValueError, match="signature"):
        Checkpoint.decode(checkpoint.signed(b"z" * 32).encode(), committed.key())
    with pytest.raises(ValueError, match="not a Cầu Nối audit checkpoint"):
        Checkpoint.decode("bm90IGpzb24", committed.key())


def test_rolled_back_checkpoint_is_not_written(committed):
    from app.audit import services
    from app.extensions import db

    committed.append(2)
    with committed.app.app_context():
        services.issue_checkpoint(Actor.system("test"))
        db.session.rollback()
        services.issue_checkpoint(Actor.system("test"))
        db.session.commit()
    assert len(_checkpoint_lines(committed)) == 1
    assert committed.verify().ok


def test_checkpoint_file_is_private(committed):
    import stat

    from app.audit.checkpoints import checkpoint_path

    committed.append(1)
    committed.cli("audit", "checkpoint")
    with committed.app.app_context():
        assert stat.S_IMODE(checkpoint_path().stat().st_mode) == 0o600


def test_rewritten_chain_fails_the_checkpoint(committed):
    """An attacker who rewrites everything (without the key) is caught at the first event."""
    committed.append(5)
    committed.cli("audit", "checkpoint")
    committed.drop_guards()
    committed.execute("UPDATE audit_events SET reason = 'rewritten' WHERE shard_seq = 1")
    assert committed.verify().problem.position == 1


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (None, None),
        ("UPDATE audit_events SET outcome = 'denied' WHERE shard_seq = 23", (23, "edited")),
        ("DELETE FROM audit_events WHERE shard_seq = 17", (17, "missing")),
        ("DELETE FROM audit_events WHERE shard_seq = 20", (20, "missing")),  # a range's anchor
        ("DELETE FROM audit_events WHERE shard_seq >= 30", (30, "truncated")),
    ],
)
def test_parallel_verify_names_the_same_event(committed, monkeypatch, tamper, expected):
    """Long trails are split over processes; the answer must be the one a single walk gives."""
    from app.audit import verify as verify_module

    used = []
    real = verify_module._parallel
    monkeypatch.setattr(
        verify_module, "_parallel", lambda *a, **k: used.append(real(*a, **k)) or used[-1]
    )
    committed.append(40)
    committed.append(5, actor=OTHER)
    if tamper:
        committed.drop_guards()
        committed.execute(tamper.replace("WHERE", "WHERE shard = 1 AND"))
    parallel = committed.verify(workers=2, parallel_min=0, batch_size=6)
    single = committed.verify(workers=1)
    assert len(used) == 1 and used[0] is not None, "the workers did not run"
    if expected is None:
        assert parallel.ok and single.ok
        assert parallel.checked == 45
    else:
        assert (parallel.problem.position, parallel.problem.kind) == expected
        assert parallel.problems == single.problems


def test_malformed_value_is_named_not_a_crash(committed):
    _tamper(
        committed,
        5,
        "UPDATE audit_events SET occurred_at = 'yesterday' WHERE shard_seq = 3"
        if committed.dialect == "sqlite"
        else "UPDATE audit_events SET format = 9 WHERE shard_seq = 3",
    )
    problem = committed.verify().problem
    assert (problem.position, problem.kind) == (3, "edited")


def test_the_scheduled_job_writes_checkpoints_that_catch_a_cut(committed):
    """Nobody has to remember: the periodic job `audit-checkpoint` writes them."""
    from app import jobs
    from app.audit.tasks import write_checkpoint

    assert "audit-checkpoint" in {p.name for p in jobs.periodic_jobs()}
    committed.append(6)
    with committed.app.app_context():
        assert write_checkpoint() == 1
    committed.drop_guards()
    committed.execute("DELETE FROM audit_events WHERE shard_seq > 4")
    committed.execute("DELETE FROM audit_shards")
    problem = committed.verify().problem
    assert (problem.shard, problem.kind) == (1, "truncated")
    assert "events 5–6" in problem.message
