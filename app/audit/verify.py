"""Verifying the audit chain, and signed checkpoints of its head. Free of Flask.

`verify_database(engine, key)` walks every event in sequence order, in batches (keyset
pagination over the primary key, so memory stays flat for millions of events), and checks:

* the sequence has no gap (an event deleted),
* each event's ``prev_hash`` is the previous event's hash (the chain is unbroken),
* each event's hash is the HMAC of its canonical serialization under the audit key
  (an edited field, a reordered or inserted row, a hash made without the key),
* the ``audit_head`` row matches the last event (events cut off at the end, rows appended
  outside the application),
* a signed checkpoint, when given: the chain still reaches its sequence with its hash (events
  cut off after it, even when the attacker also rewound the head).

It stops at the first bad event and says which one and why.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.audit.chain import (
    FORMAT_TAG,
    GENESIS_HASH,
    STORED_COLUMNS,
    canonical_values,
    encode_list,
    format_time,
    keyed_hash,
    keyed_hasher,
    unkeyed_hash,
)

log = logging.getLogger(__name__)

DEFAULT_BATCH = 20_000
# Below this many events one process is quicker than starting workers.
PARALLEL_MIN = 200_000
# How far away a reordered event's original position is searched for (only on failure).
REORDER_WINDOW = 1_000

CHECKPOINT_DOMAIN = b"caunoi-audit-checkpoint/1\n"


class CheckpointError(ValueError):
    """The checkpoint text is malformed or its signature does not verify with the audit key."""


@dataclass(frozen=True)
class Problem:
    """The first bad event: its sequence number, a short kind, and a sentence saying why."""

    seq: int
    kind: str  # missing | reordered | inserted | forged | edited | broken_link | truncated |
    #            head_mismatch | checkpoint_mismatch
    message: str

    def __str__(self) -> str:
        return f"event {self.seq} ({self.kind}): {self.message}"


@dataclass
class VerifyResult:
    checked: int = 0
    first_seq: int | None = None
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    head_seq: int | None = None
    checkpoint_reached: bool = False
    problem: Problem | None = None
    workers: int = 1
    worker_cpu_s: float = 0.0  # CPU seconds spent in worker processes, when there were any

    @property
    def ok(self) -> bool:
        return self.problem is None


# ------------------------------------------------------------------------------ checkpoints


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: the chain reached `seq` with `hash` at `at`. Kept outside the db."""

    seq: int
    hash: str
    at: str  # canonical UTC time text
    signature: str = field(default="", compare=False)

    def _message(self) -> bytes:
        body = {"at": self.at, "hash": self.hash, "seq": self.seq, "v": 1}
        return CHECKPOINT_DOMAIN + json.dumps(body, sort_keys=True, separators=(",", ":")).encode()

    def signed(self, key: bytes) -> Checkpoint:
        return Checkpoint(self.seq, self.hash, self.at, keyed_hash(key, self._message()))

    def encode(self) -> str:
        """One copyable string: base64url of a small JSON object, no padding."""
        body = {"v": 1, "seq": self.seq, "hash": self.hash, "at": self.at, "sig": self.signature}
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str, key: bytes) -> Checkpoint:
        """Parse and check the signature; raises CheckpointError."""
        text = "".join(value.split())
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            body = json.loads(raw)
            if body.get("v") != 1:
                raise CheckpointError("unknown checkpoint version")
            seq, hash_, at, sig = body["seq"], body["hash"], body["at"], body["sig"]
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            raise CheckpointError("the checkpoint is not a Cầu Nối audit checkpoint") from None
        if not (isinstance(seq, int) and isinstance(hash_, str) and isinstance(sig, str)):
            raise CheckpointError("the checkpoint is malformed")
        checkpoint = cls(seq, hash_, str(at), sig)
        expected = checkpoint.signed(key).signature
        if not hmac.compare_digest(expected, sig):
            raise CheckpointError(
                "the checkpoint signature does not verify with the audit key "
                "(altered, or made with another key set)"
            )
        return checkpoint


def make_checkpoint(key: bytes, seq: int, hash_: str, at) -> Checkpoint:
    return Checkpoint(seq, hash_, format_time(at)).signed(key)


# ------------------------------------------------------------------------------ reading rows


class _Reader:
    """Reads events through a DB-API cursor: raw tuples, no ORM objects, no type processing."""

    def __init__(self, dbapi_connection, dialect_name: str, batch_size: int):
        self.cursor = dbapi_connection.cursor()
        self.mark = "?" if dialect_name == "sqlite" else "%s"
        self.batch_size = batch_size
        columns = ", ".join(STORED_COLUMNS)
        self._batch_sql = (
            f"SELECT {columns} FROM audit_events "  # noqa: S608
            f"WHERE seq >= {self.mark} AND seq <= {self.mark} "
            f"ORDER BY seq LIMIT {int(batch_size)}"
        )
        self._one_sql = f"SELECT {columns} FROM audit_events WHERE seq = {self.mark}"  # noqa: S608

    def rows(self, from_seq: int, to_seq: int | None = None) -> Iterator[tuple]:
        lo = from_seq
        hi = (1 << 62) if to_seq is None else to_seq
        while True:
            self.cursor.execute(self._batch_sql, (lo, hi))
            batch = self.cursor.fetchall()
            yield from batch
            if len(batch) < self.batch_size:
                return
            lo = batch[-1][0] + 1

    def one(self, seq: int) -> tuple | None:
        self.cursor.execute(self._one_sql, (seq,))
        return self.cursor.fetchone()

    def head(self) -> tuple[int, str] | None:
        self.cursor.execute("SELECT last_seq, last_hash FROM audit_head WHERE id = 1")
        row = self.cursor.fetchone()
        return None if row is None else (int(row[0]), row[1])

    def close(self) -> None:
        self.cursor.close()


# ------------------------------------------------------------------------------ diagnosis


def _missing(first: int, last: int) -> Problem:
    """Events `first`..`last` are gone."""
    gap = f"events {first}–{last} are" if last > first else "it is"
    return Problem(first, "missing", f"{gap} missing (deleted)")


def _checkpoint_mismatch(checkpoint: Checkpoint) -> Problem:
    return Problem(
        checkpoint.seq,
        "checkpoint_mismatch",
        f"its hash differs from the checkpoint of {checkpoint.at}: the chain was rewritten",
    )


def _hash_with_seq(key: bytes, row: tuple, seq: int) -> str:
    return keyed_hash(key, canonical_values((seq, *row[1:15])))


def _diagnose(
    key: bytes, row: tuple, prev_hash: str, nxt: tuple | None, head_seq, anchor_only=False
) -> Problem | None:
    """Name what is wrong with `row`, whose hash or link failed (the sequence is contiguous).

    With `anchor_only`, None when the row's own hash verifies (its link is not checked).
    """
    seq = row[0]
    try:
        data = canonical_values(row[:15])
    except (ValueError, TypeError, AttributeError):
        return Problem(seq, "edited", "a field holds a value of the wrong type or format")
    hash_ok = keyed_hash(key, data) == row[15]
    if anchor_only and hash_ok:
        return None
    link_ok = row[14] == prev_hash
    if not hash_ok:
        for other in range(max(1, seq - REORDER_WINDOW), seq + REORDER_WINDOW + 1):
            if other != seq and _hash_with_seq(key, row, other) == row[15]:
                return Problem(
                    seq, "reordered", f"this row was written as event {other} and moved here"
                )
        if unkeyed_hash(data) == row[15]:
            return Problem(seq, "forged", "its hash is plain SHA-256, made without the audit key")
        if nxt is not None and nxt[14] == prev_hash:
            return Problem(
                seq,
                "inserted",
                f"the next event links straight to event {seq - 1}: this row was inserted "
                "and does not verify with the audit key",
            )
        if head_seq is not None and seq > head_seq:
            return Problem(
                seq,
                "forged",
                f"it lies beyond the chain head ({head_seq}), so the application did not "
                "write it, and its hash does not verify with the audit key",
            )
        return Problem(
            seq,
            "edited",
            "its content does not match its hash: changed after it was written, or its hash "
            "was not made with the audit key",
        )
    if not link_ok:
        return Problem(
            seq,
            "broken_link",
            f"its prev_hash is not the hash of event {seq - 1}: the event before it was replaced",
        )
    raise AssertionError("diagnose called on a good event")


# ------------------------------------------------------------------------------ the walk


def _walk(
    reader: _Reader,
    key: bytes,
    *,
    from_seq: int,
    checkpoint: Checkpoint | None,
    progress: Callable[[int], None] | None,
    to_seq: int | None = None,
) -> VerifyResult:
    """Walk from `from_seq` (to `to_seq`, or the end and then check the head and checkpoint)."""
    result = VerifyResult()
    head = reader.head()
    head_seq = head[0] if head else None
    result.head_seq = head_seq
    from_seq = max(1, from_seq)

    prev_hash = GENESIS_HASH
    if from_seq > 1:
        anchor = reader.one(from_seq - 1)
        if anchor is None:
            result.problem = Problem(from_seq - 1, "missing", "this event is missing (deleted)")
            return result
        problem = _diagnose(key, anchor, anchor[14], None, head_seq, anchor_only=True)
        if problem is not None:
            result.problem = problem
            return result
        prev_hash = anchor[15]
        result.last_seq, result.last_hash = anchor[0], anchor[15]

    if checkpoint is not None and checkpoint.seq < from_seq:
        result.checkpoint_reached = _check_checkpoint_row(reader, checkpoint, result)
        if result.problem:
            return result

    expected = from_seq
    hasher = keyed_hasher(key)
    encode = encode_list
    tag = FORMAT_TAG
    cp_seq = checkpoint.seq if checkpoint is not None else -1
    every = reader.batch_size
    rows = reader.rows(from_seq, to_seq)
    # The hot loop: ~1M iterations; everything it touches is a local.
    for row in rows:
        seq = row[0]
        t = row[1]
        try:
            if type(t) is str and len(t) == 26:  # SQLite's stored text
                t = f"{t[:10]}T{t[11:]}Z"
            else:
                t = format_time(t)
            digest = hasher(encode([tag, seq, t, *row[2:15]]).encode())
        except (ValueError, TypeError, AttributeError):
            # A value no application write could produce (a malformed time, a blob, ...).
            if seq != expected:
                digest = None
            else:
                result.problem = Problem(
                    seq, "edited", "a field holds a value of the wrong type or format"
                )
                return result
        if seq != expected or row[14] != prev_hash or digest != row[15]:
            if seq != expected:
                result.problem = _missing(expected, seq - 1)
            else:
                result.problem = _diagnose(key, row, prev_hash, next(rows, None), head_seq)
            return result
        if seq == cp_seq:
            if row[15] != checkpoint.hash:
                result.problem = _checkpoint_mismatch(checkpoint)
                return result
            result.checkpoint_reached = True
        prev_hash = row[15]
        expected = seq + 1
        result.checked += 1
        if result.first_seq is None:
            result.first_seq = seq
        if progress is not None and result.checked % every == 0:
            progress(result.checked)

    result.last_seq = expected - 1 if result.checked else result.last_seq
    result.last_hash = prev_hash
    if to_seq is not None:
        if result.last_seq < to_seq:
            result.problem = _missing(result.last_seq + 1, to_seq)
        return result
    _check_end(result, head, checkpoint)
    return result


def _check_checkpoint_row(reader: _Reader, checkpoint: Checkpoint, result: VerifyResult) -> bool:
    if checkpoint.seq == 0:
        return checkpoint.hash == GENESIS_HASH
    row = reader.one(checkpoint.seq)
    if row is None:
        result.problem = Problem(
            checkpoint.seq,
            "truncated",
            f"the event the checkpoint of {checkpoint.at} covers is missing",
        )
        return False
    if row[15] != checkpoint.hash:
        result.problem = _checkpoint_mismatch(checkpoint)
        return False
    return True


def _check_end(result: VerifyResult, head, checkpoint: Checkpoint | None) -> None:
    last = result.last_seq
    if checkpoint is not None and not result.checkpoint_reached:
        if checkpoint.seq == 0 and checkpoint.hash == GENESIS_HASH:
            result.checkpoint_reached = True
        else:
            result.problem = Problem(
                last + 1,
                "truncated",
                f"the chain ends at event {last} but the checkpoint of {checkpoint.at} covers "
                f"up to event {checkpoint.seq}: events {last + 1}–{checkpoint.seq} (at least) "
                "were cut off",
            )
            return
    if head is None:
        result.problem = Problem(last + 1, "head_mismatch", "the audit_head row is missing")
        return
    head_seq, head_hash = head
    if head_seq > last:
        result.problem = Problem(
            last + 1,
            "truncated",
            f"the chain ends at event {last} but its head says {head_seq}: "
            f"events {last + 1}–{head_seq} were cut off",
        )
    elif head_seq < last:
        result.problem = Problem(
            head_seq + 1,
            "head_mismatch",
            f"events after the chain head ({head_seq}) were not appended by the application",
        )
    elif head_hash != result.last_hash:
        result.problem = Problem(
            last, "head_mismatch", "the chain head's hash is not this event's hash"
        )


# ------------------------------------------------------------------------------ entry points


def verify_connection(
    connection: sa.Connection,
    key: bytes,
    *,
    from_seq: int = 1,
    checkpoint: Checkpoint | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
) -> VerifyResult:
    """Verify through an open SQLAlchemy connection, inside whatever transaction it has."""
    reader = _Reader(connection.connection.dbapi_connection, connection.dialect.name, batch_size)
    try:
        return _walk(reader, key, from_seq=from_seq, checkpoint=checkpoint, progress=progress)
    finally:
        reader.close()


def _open_snapshot(engine: sa.Engine):
    """A raw DB-API connection in a read-only snapshot that never blocks writers.

    SQLite: a plain (deferred) read transaction in WAL mode, not the BEGIN IMMEDIATE the app
    uses for writes. PostgreSQL: REPEATABLE READ, READ ONLY, so events appended meanwhile do not
    make the head look wrong.
    """
    raw = engine.raw_connection()
    raw.rollback()
    if engine.dialect.name == "sqlite":
        raw.driver_connection.execute("BEGIN DEFERRED")
    elif engine.dialect.name == "postgresql":
        # psycopg opens the transaction itself; this must be its first statement.
        cursor = raw.cursor()
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
        cursor.close()
    return raw


def _verify_range(url: str, key: bytes, lo: int, hi: int, batch_size: int):
    """Worker process: verify events lo..hi (anchored on lo-1).

    Returns (checked, problem, CPU seconds).
    """
    cpu_start = time.process_time()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        raw = _open_snapshot(engine)
        reader = _Reader(raw, engine.dialect.name, batch_size)
        try:
            result = _walk(reader, key, from_seq=lo, to_seq=hi, checkpoint=None, progress=None)
        finally:
            reader.close()
            raw.rollback()
            raw.close()
        return result.checked, result.problem, time.process_time() - cpu_start
    finally:
        engine.dispose()


def _ranges(lo: int, hi: int, parts: int) -> list[tuple[int, int]]:
    size = -(-(hi - lo + 1) // parts)
    return [(a, min(a + size - 1, hi)) for a in range(lo, hi + 1, size)]


def _parallel_prefix(engine, key, lo: int, hi: int, workers: int, batch_size: int):
    """Verify lo..hi split over worker processes.

    Returns (checked, restart, cpu, workers): events verified in the clean ranges before the
    first bad one, where the sequential walk must resume (hi + 1 when all were clean, else the
    start of the first bad range, re-walked in this process to name the problem precisely), the
    workers' CPU seconds and how many ran. None when workers cannot be started here.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:
        return None
    url = engine.url.render_as_string(hide_password=False)
    ranges = _ranges(lo, hi, workers)
    try:
        with ProcessPoolExecutor(max_workers=len(ranges), mp_context=context) as pool:
            futures = [pool.submit(_verify_range, url, key, a, b, batch_size) for a, b in ranges]
            outcomes = [f.result() for f in futures]
    except (OSError, RuntimeError) as exc:  # no processes here (sandbox, frozen app)
        log.warning(
            "parallel audit verify unavailable (%s); verifying in one process", type(exc).__name__
        )
        return None
    checked = 0
    cpu = sum(o[2] for o in outcomes)
    for (a, _b), (count, problem, _cpu) in zip(ranges, outcomes, strict=True):
        if problem is not None:
            return checked, a, cpu, len(ranges)
        checked += count
    return checked, hi + 1, cpu, len(ranges)


def verify_database(
    engine: sa.Engine,
    key: bytes,
    *,
    from_seq: int = 1,
    checkpoint: Checkpoint | None = None,
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    parallel_min: int = PARALLEL_MIN,
) -> VerifyResult:
    """Verify the committed chain in one read-only snapshot that never blocks writers.

    Long chains are split over `workers` processes (default: one per CPU): each verifies a
    range anchored on the stored hash of the event before it, which the previous range
    verifies. The first bad range is then walked again here, so the answer is the same as a
    single walk's.
    """
    raw = _open_snapshot(engine)
    try:
        reader = _Reader(raw, engine.dialect.name, batch_size)
        try:
            from_seq = max(1, from_seq)
            head = reader.head()
            workers = workers if workers is not None else (os.cpu_count() or 1)
            prefix = None
            if head is not None and workers > 1 and head[0] - from_seq + 1 >= max(parallel_min, 2):
                prefix = _parallel_prefix(engine, key, from_seq, head[0], workers, batch_size)
            if prefix is None:
                return _walk(
                    reader, key, from_seq=from_seq, checkpoint=checkpoint, progress=progress
                )
            checked, resume, cpu, used = prefix
            result = _walk(reader, key, from_seq=resume, checkpoint=checkpoint, progress=progress)
            result.checked += checked
            result.workers, result.worker_cpu_s = used, cpu
            if result.checked:
                result.first_seq = from_seq
            return result
        finally:
            reader.close()
    finally:
        raw.rollback()
        raw.close()
