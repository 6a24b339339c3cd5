"""Whoever holds only the database cannot change the trail unnoticed: verify names the event."""

from __future__ import annotations

import pytest

from app.audit.chain import STORED_COLUMNS, canonical_values, keyed_hash, unkeyed_hash
from app.audit.verify import Checkpoint


def _row(committed, seq: int) -> tuple:
    columns = ", ".join(STORED_COLUMNS)
    return tuple(
        committed.execute(f"SELECT {columns} FROM audit_events WHERE seq = :s", {"s": seq})[0]  # noqa: S608
    )


def _tamper(committed, events: int, *statements: str) -> None:
    """Append `events`, then run `statements` as someone who can also drop the guards."""
    committed.append(events)
    committed.drop_guards()
    for sql in statements:
        committed.execute(sql)


def _insert_intruder_event(
    committed, seq: int, after: tuple, hash_fn, action: str, object_ref: str
) -> str:
    """Insert event `seq`, linked after the row `after`, as an intruder with SQL access but
    no audit key would write it; returns the hash written."""
    values = [
        seq,
        after[1],
        None,
        "intruder",
        "admin",
        None,
        action,
        "case",
        object_ref,
        "success",
        None,
        None,
        None,
        "{}",
        after[15],
    ]
    digest = hash_fn(canonical_values(values))
    columns = ", ".join(STORED_COLUMNS)
    marks = ", ".join(f":{name}" for name in STORED_COLUMNS)
    committed.execute(
        f"INSERT INTO audit_events ({columns}) VALUES ({marks})",  # noqa: S608
        dict(zip(STORED_COLUMNS, [*values, digest], strict=True)),
    )
    return digest


def _append_forged(committed, hash_fn, *, move_head: bool) -> int:
    """Append a row the way an attacker with SQL access but no audit key would."""
    last = _row(committed, committed.execute("SELECT max(seq) FROM audit_events")[0][0])
    seq = last[0] + 1
    digest = _insert_intruder_event(committed, seq, last, hash_fn, "case.erased", "NB-2026-00001")
    if move_head:
        committed.execute(
            "UPDATE audit_head SET last_seq = :s, last_hash = :h WHERE id = 1",
            {"s": seq, "h": digest},
        )
    return seq


def test_untouched_chain_verifies(committed):
    committed.append(30)
    result = committed.verify(batch_size=7)  # several batches, one partial
    assert result.ok, result.problem
    assert (result.checked, result.first_seq, result.last_seq) == (30, 1, 30)
    assert committed.verify(from_seq=12).checked == 19


def test_edited_field_is_named(committed):
    _tamper(committed, 10, "UPDATE audit_events SET actor_username = 'someone_else' WHERE seq = 6")
    problem = committed.verify().problem
    assert (problem.seq, problem.kind) == (6, "edited")
    result = committed.cli("audit", "verify")
    assert result.exit_code == 1
    assert "event 6 (edited)" in result.stderr


def test_edited_time_is_named(committed):
    _tamper(
        committed,
        5,
        "UPDATE audit_events SET occurred_at = '2020-01-01 00:00:00.000000' WHERE seq = 3"
        if committed.dialect == "sqlite"
        else "UPDATE audit_events SET occurred_at = '2020-01-01T00:00:00Z' WHERE seq = 3",
    )
    assert committed.verify().problem.seq == 3


def test_deleted_row_is_named(committed):
    _tamper(committed, 10, "DELETE FROM audit_events WHERE seq = 4")
    problem = committed.verify().problem
    assert (problem.seq, problem.kind) == (4, "missing")


def test_deleted_rows_range_is_named(committed):
    _tamper(committed, 10, "DELETE FROM audit_events WHERE seq BETWEEN 4 AND 7")
    problem = committed.verify().problem
    assert (problem.seq, problem.kind) == (4, "missing")
    assert "4–7" in problem.message


def test_swapped_rows_are_named(committed):
    _tamper(
        committed,
        10,
        "UPDATE audit_events SET seq = -5 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = 6",
        "UPDATE audit_events SET seq = 6 WHERE seq = -5",
    )
    problem = committed.verify().problem
    assert (problem.seq, problem.kind) == (5, "reordered")
    assert "event 6" in problem.message


def test_row_appended_with_plain_sha256_is_named(committed):
    committed.append(8)
    seq = _append_forged(committed, unkeyed_hash, move_head=True)
    problem = committed.verify().problem
    assert (problem.seq, problem.kind) == (seq, "forged")
    assert "without the audit key" in problem.message


@pytest.mark.parametrize("move_head", [False, True])
def test_row_appended_with_another_key_is_named(committed, move_head):
    committed.append(8)
    other_key = b"k" * 32
    if move_head:
        committed.drop_guards()
    seq = _append_forged(committed, lambda b: keyed_hash(other_key, b), move_head=move_head)
    problem = committed.verify().problem
    assert problem.seq == seq
    assert problem.kind == ("edited" if move_head else "forged")


def test_row_inserted_in_the_middle_is_named(committed):
    # Make room at 4 by moving 4..6 up one (highest first), then insert a fake event 4.
    _tamper(
        committed,
        6,
        "UPDATE audit_events SET seq = 7 WHERE seq = 6",
        "UPDATE audit_events SET seq = 6 WHERE seq = 5",
        "UPDATE audit_events SET seq = 5 WHERE seq = 4",
    )
    _insert_intruder_event(
        committed,
        4,
        _row(committed, 3),
        lambda b: keyed_hash(b"x" * 32, b),
        "case.viewed",
        "NB-2026-00009",
    )
    problem = committed.verify().problem
    assert (problem.seq, problem.kind) == (4, "inserted")


def test_tail_cut_off_with_head_left_is_named(committed):
    _tamper(committed, 10, "DELETE FROM audit_events WHERE seq > 7")
    problem = committed.verify().problem
    assert (problem.seq, problem.kind) == (8, "truncated")


def test_tail_cut_off_after_checkpoint_is_named(committed):
    committed.append(10)
    result = committed.cli("audit", "checkpoint")
    assert result.exit_code == 0, result.output
    checkpoint_text = result.stdout.strip()
    checkpoint = Checkpoint.decode(checkpoint_text, committed.key())
    assert checkpoint.seq == 11  # the audit.checkpoint event itself is covered
    committed.append(3)
    assert committed.cli("audit", "verify", "--checkpoint", checkpoint_text).exit_code == 0

    # The attacker cuts the last events and rewinds the head so the chain looks whole.
    committed.drop_guards()
    committed.execute("DELETE FROM audit_events WHERE seq > 9")
    last = _row(committed, 9)
    committed.execute(
        "UPDATE audit_head SET last_seq = 9, last_hash = :h WHERE id = 1", {"h": last[15]}
    )
    assert committed.verify().ok  # without the checkpoint nothing shows
    problem = committed.verify(checkpoint=checkpoint).problem
    assert (problem.seq, problem.kind) == (10, "truncated")
    result = committed.cli("audit", "verify", "--checkpoint", checkpoint_text)
    assert result.exit_code == 1
    assert "event 10 (truncated)" in result.stderr


def test_checkpoint_signed_with_another_key_is_refused(committed):
    committed.append(3)
    forged = Checkpoint(3, "0" * 64, "2026-01-01T00:00:00.000000Z").signed(b"z" * 32).encode()
    result = committed.cli("audit", "verify", "--checkpoint", forged)
    assert result.exit_code != 0
    assert "signature" in result.stderr


def test_rewritten_chain_fails_the_checkpoint(committed):
    """An attacker who rewrites everything (without the key) is caught at the first event."""
    committed.append(5)
    checkpoint = Checkpoint.decode(committed.cli("audit", "checkpoint").stdout, committed.key())
    committed.drop_guards()
    committed.execute("UPDATE audit_events SET reason = 'rewritten' WHERE seq = 1")
    assert committed.verify(checkpoint=checkpoint).problem.seq == 1


def test_verify_from_checks_the_anchor(committed):
    _tamper(committed, 10, "UPDATE audit_events SET reason = 'x' WHERE seq = 4")
    assert committed.verify(from_seq=5).problem.seq == 4
    assert committed.verify(from_seq=6).ok
    result = committed.cli("audit", "verify", "--from", "6")
    assert result.exit_code == 0
    assert "5 events verified" in result.stdout


@pytest.mark.parametrize(
    "tamper, expected",
    [
        (None, None),
        ("UPDATE audit_events SET outcome = 'denied' WHERE seq = 23", (23, "edited")),
        ("DELETE FROM audit_events WHERE seq = 17", (17, "missing")),
        ("DELETE FROM audit_events WHERE seq = 21", (21, "missing")),  # a range's anchor
        ("DELETE FROM audit_events WHERE seq >= 30", (30, "truncated")),
    ],
)
def test_parallel_verify_names_the_same_event(committed, monkeypatch, tamper, expected):
    """Long chains are split over processes; the answer must be the one a single walk gives."""
    from app.audit import verify as verify_module

    used = []
    real = verify_module._parallel_prefix
    monkeypatch.setattr(
        verify_module, "_parallel_prefix", lambda *a, **k: used.append(real(*a, **k)) or used[-1]
    )
    committed.append(40)
    if tamper:
        committed.drop_guards()
        committed.execute(tamper)
    parallel = committed.verify(workers=2, parallel_min=0, batch_size=6)
    single = committed.verify(workers=1)
    assert len(used) == 1 and used[0] is not None, "the workers did not run"
    if expected is None:
        assert parallel.ok and single.ok
        assert (parallel.checked, parallel.first_seq, parallel.last_seq) == (40, 1, 40)
    else:
        assert (parallel.problem.seq, parallel.problem.kind) == expected
        assert parallel.problem == single.problem
        assert parallel.checked == single.checked


@pytest.mark.parametrize("from_seq", [1, 4])
def test_malformed_value_is_named_not_a_crash(committed, from_seq):
    _tamper(
        committed,
        5,
        "UPDATE audit_events SET occurred_at = 'yesterday' WHERE seq = 3"
        if committed.dialect == "sqlite"
        else "UPDATE audit_events SET details = repeat('x', 3) WHERE seq = 3",
    )
    problem = committed.verify(from_seq=from_seq).problem
    assert (problem.seq, problem.kind) == (3, "edited")
