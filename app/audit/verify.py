"""Verifying the audit trail: every shard's chain, its keyed head, and the checkpoints.

`verify_database(engine, key, checkpoints=...)` walks each shard's events in chain order, in
batches (keyset pagination over (shard, shard_seq), so memory stays flat for millions of
events), and checks:

* each shard's positions have no gap (an event deleted),
* each event's ``prev_hash`` is the previous event's hash in its shard (the chain is unbroken),
* each event's hash is the HMAC of `app.audit.chain.canonical` under the audit key (an edited
  field, a reordered or inserted row, a hash made without the key),
* each shard head carries a valid MAC (moved by someone without the audit key) and matches the
  shard's last event (events cut off at the end, rows appended outside the application),
* every checkpoint (kept outside the database, app/audit/checkpoints.py): each shard it names
  still exists and its chain still reaches the checkpoint's position with its hash (events cut
  off even though the head was rewound with a replayed MAC, a shard wiped, a shard removed).

It reports the first bad event of each shard, saying which one and why.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa

from app.audit.chain import (
    GENESIS_HASH,
    HASH,
    PREV_HASH,
    SHARD_SEQ,
    STORED_COLUMNS,
    canonical,
    head_mac,
    keyed_hash,
    keyed_hasher,
    unkeyed_hash,
)
from app.audit.checkpoints import Checkpoint, FileProblem

log = logging.getLogger(__name__)

DEFAULT_BATCH = 20_000
# Below this many events one process is quicker than starting workers.
PARALLEL_MIN = 200_000
# How far away a reordered event's original position is searched for (only on failure).
REORDER_WINDOW = 1_000


@dataclass(frozen=True)
class Problem:
    """What is wrong, where: a shard (None for the checkpoint file), the position in its chain,
    a short kind, a sentence saying why, and the event's number when the event exists."""

    shard: int | None
    position: int
    kind: str  # missing | reordered | inserted | forged | edited | broken_link | truncated |
    #            head_mismatch | head_forged | shard_removed | checkpoint_mismatch |
    #            checkpoint_refused
    message: str
    seq: int | None = None

    def __str__(self) -> str:
        if self.shard is None:
            return f"checkpoints ({self.kind}): {self.message}"
        number = f" (no. {self.seq})" if self.seq is not None else ""
        return f"shard {self.shard} event {self.position}{number} ({self.kind}): {self.message}"


@dataclass
class ShardResult:
    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    problem: Problem | None = None


@dataclass
class VerifyResult:
    shards: dict[int, ShardResult] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    checkpoints: int = 0
    workers: int = 1
    worker_cpu_s: float = 0.0  # CPU seconds spent in worker processes, when there were any

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem(self) -> Problem | None:
        return self.problems[0] if self.problems else None

    @property
    def checked(self) -> int:
        return sum(s.checked for s in self.shards.values())


# ------------------------------------------------------------------------------ reading rows


class _Reader:
    """Reads events through a DB-API cursor: raw tuples, no ORM objects, no type processing."""

    def __init__(self, dbapi_connection, dialect_name: str, batch_size: int):
        self.cursor = dbapi_connection.cursor()
        m = "?" if dialect_name == "sqlite" else "%s"
        self.batch_size = batch_size
        columns = ", ".join(STORED_COLUMNS)
        self._batch_sql = (
            f"SELECT {columns} FROM audit_events "  # noqa: S608
            f"WHERE shard = {m} AND shard_seq >= {m} AND shard_seq <= {m} "
            f"ORDER BY shard_seq LIMIT {int(batch_size)}"
        )
        self._one_sql = f"SELECT {columns} FROM audit_events WHERE shard = {m} AND shard_seq = {m}"  # noqa: S608

    def rows(self, shard: int, lo: int, hi: int | None = None) -> Iterator[tuple]:
        hi = (1 << 62) if hi is None else hi
        while True:
            self.cursor.execute(self._batch_sql, (shard, lo, hi))
            batch = self.cursor.fetchall()
            yield from batch
            if len(batch) < self.batch_size:
                return
            lo = batch[-1][SHARD_SEQ] + 1

    def one(self, shard: int, position: int) -> tuple | None:
        self.cursor.execute(self._one_sql, (shard, position))
        return self.cursor.fetchone()

    def heads(self) -> dict[int, tuple[int, str, str]]:
        self.cursor.execute("SELECT shard, last_seq, last_hash, mac FROM audit_shards")
        return {int(s): (int(n), h, m) for s, n, h, m in self.cursor.fetchall()}

    def extents(self) -> dict[int, int]:
        """Each shard that has events: its highest position."""
        self.cursor.execute("SELECT shard, max(shard_seq) FROM audit_events GROUP BY shard")
        return {int(s): int(n) for s, n in self.cursor.fetchall()}

    def close(self) -> None:
        self.cursor.close()


# ------------------------------------------------------------------------------ diagnosis


def _missing(shard: int, first: int, last: int) -> Problem:
    """Events `first`..`last` of `shard` are gone."""
    gap = f"events {first}–{last} are" if last > first else "it is"
    return Problem(shard, first, "missing", f"{gap} missing (deleted)")


def _hash_at(key: bytes, row: tuple, position: int) -> str:
    """The hash `row` would have had at another position of its shard."""
    moved = list(row)
    moved[SHARD_SEQ] = position
    if row[3] == 1:  # format 1: the position is the event number
        moved[0] = position
    return keyed_hash(key, canonical(moved))


def _diagnose(
    key: bytes, row: tuple, prev_hash: str, nxt: tuple | None, head_seq, anchor_only=False
) -> Problem | None:
    """Name what is wrong with `row`, whose hash or link failed (its shard is contiguous).

    With `anchor_only`, None when the row's own hash verifies (its link is not checked).
    """
    shard, pos, seq = row[1], row[SHARD_SEQ], row[0]

    def problem(kind: str, message: str) -> Problem:
        return Problem(shard, pos, kind, message, seq)

    try:
        data = canonical(row)
    except (ValueError, TypeError, AttributeError):
        return problem("edited", "a field holds a value of the wrong type or format")
    hash_ok = keyed_hash(key, data) == row[HASH]
    if anchor_only and hash_ok:
        return None
    if not hash_ok:
        for other in range(max(1, pos - REORDER_WINDOW), pos + REORDER_WINDOW + 1):
            if other != pos and _hash_at(key, row, other) == row[HASH]:
                return problem("reordered", f"this row was written as event {other} and moved here")
        if unkeyed_hash(data) == row[HASH]:
            return problem("forged", "its hash is plain SHA-256, made without the audit key")
        if nxt is not None and nxt[PREV_HASH] == prev_hash:
            return problem(
                "inserted",
                f"the next event links straight to event {pos - 1}: this row was inserted "
                "and does not verify with the audit key",
            )
        if head_seq is not None and pos > head_seq:
            return problem(
                "forged",
                f"it lies beyond its shard's head ({head_seq}), so the application did not "
                "write it, and its hash does not verify with the audit key",
            )
        return problem(
            "edited",
            "its content does not match its hash: changed after it was written, or its hash "
            "was not made with the audit key",
        )
    if row[PREV_HASH] != prev_hash:
        return problem(
            "broken_link",
            f"its prev_hash is not the hash of event {pos - 1}: the event before it was replaced",
        )
    raise AssertionError("diagnose called on a good event")


# ------------------------------------------------------------------------------ the walk


def _walk(
    reader: _Reader,
    key: bytes,
    shard: int,
    *,
    lo: int = 1,
    hi: int | None = None,
    expected: dict[int, tuple[str, str]] | None = None,
    head_seq: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ShardResult:
    """Walk `shard` from position `lo` (anchored on the stored hash of lo - 1) to `hi` or its
    end. `expected` maps positions to (hash, checkpoint time) that the chain must hold."""
    result = ShardResult()
    prev_hash = GENESIS_HASH
    if lo > 1:
        anchor = reader.one(shard, lo - 1)
        if anchor is None:
            result.problem = _missing(shard, lo - 1, lo - 1)
            return result
        result.problem = _diagnose(key, anchor, anchor[PREV_HASH], None, head_seq, True)
        if result.problem:
            return result
        prev_hash = anchor[HASH]
        result.last_seq, result.last_hash = lo - 1, prev_hash
    expected = expected or {}
    position = lo
    hasher = keyed_hasher(key)
    every = reader.batch_size
    rows = reader.rows(shard, lo, hi)
    # The hot loop: ~1M iterations; everything it touches is a local.
    for row in rows:
        pos = row[SHARD_SEQ]
        try:
            digest = hasher(canonical(row))
        except (ValueError, TypeError, AttributeError):
            digest = None  # a value no application write could produce; _diagnose names it
        if pos != position or row[PREV_HASH] != prev_hash or digest != row[HASH]:
            if pos != position:
                result.problem = _missing(shard, position, pos - 1)
            else:
                result.problem = _diagnose(key, row, prev_hash, next(rows, None), head_seq)
            return result
        if pos in expected and expected[pos][0] != row[HASH]:
            result.problem = Problem(
                shard,
                pos,
                "checkpoint_mismatch",
                f"its hash differs from the checkpoint of {expected[pos][1]}: "
                "the chain was rewritten",
                row[0],
            )
            return result
        prev_hash = row[HASH]
        position = pos + 1
        result.checked += 1
        if progress is not None and result.checked % every == 0:
            progress(every)
    result.last_seq = position - 1
    result.last_hash = prev_hash
    if hi is not None and result.last_seq < hi:
        result.problem = _missing(shard, result.last_seq + 1, hi)
    return result


def _check_end(
    shard: int,
    result: ShardResult,
    head: tuple[int, str, str] | None,
    furthest: tuple[int, str] | None,
    key: bytes,
) -> Problem | None:
    """After a clean walk: the shard must reach its furthest checkpoint and its head."""
    last = result.last_seq
    if furthest is not None and furthest[0] > last:
        reach, at = furthest
        return Problem(
            shard,
            last + 1,
            "truncated",
            f"the chain ends at event {last} but the checkpoint of {at} covers up to event "
            f"{reach}: events {last + 1}–{reach} (at least) were cut off"
            + (", and the head was set back" if head is not None and head[0] < reach else ""),
        )
    if head is None:
        return Problem(shard, last + 1, "head_mismatch", "the shard's head row is missing")
    head_seq, head_hash, mac = head
    if mac != head_mac(key, shard, head_seq, head_hash):
        return Problem(
            shard,
            head_seq,
            "head_forged",
            "the shard's head does not carry a valid MAC under the audit key: it was moved by "
            "someone without the key",
        )
    if head_seq > last:
        return Problem(
            shard,
            last + 1,
            "truncated",
            f"the chain ends at event {last} but its head says {head_seq}: "
            f"events {last + 1}–{head_seq} were cut off",
        )
    if head_seq < last:
        return Problem(
            shard,
            head_seq + 1,
            "head_mismatch",
            f"events after the shard's head ({head_seq}) were not appended by the application",
        )
    if head_hash != result.last_hash:
        return Problem(shard, last, "head_mismatch", "the head's hash is not this event's hash")
    return None


# ------------------------------------------------------------------------------ checkpoints


def _expectations(checkpoints: Sequence[Checkpoint]):
    """Per shard: {position: (hash, time)} every checkpoint names, and the furthest of them."""
    expected: dict[int, dict[int, tuple[str, str]]] = {}
    furthest: dict[int, tuple[int, str]] = {}
    for checkpoint in checkpoints:
        for shard, position, hash_ in checkpoint.heads:
            if position == 0:
                continue
            expected.setdefault(shard, {})[position] = (hash_, checkpoint.at)
            if position > furthest.get(shard, (0, ""))[0]:
                furthest[shard] = (position, checkpoint.at)
    return expected, furthest


# ------------------------------------------------------------------------------ entry points


def _verify(
    reader: _Reader,
    key: bytes,
    checkpoints: Sequence[Checkpoint],
    file_problems: Sequence[FileProblem],
    progress,
    walked: dict[int, ShardResult] | None = None,
) -> VerifyResult:
    result = VerifyResult(checkpoints=len(checkpoints))
    result.problems.extend(
        Problem(None, p.line, "checkpoint_refused", str(p)) for p in file_problems
    )
    heads = reader.heads()
    extents = reader.extents()
    expected, furthest = _expectations(checkpoints)
    for shard in sorted(set(heads) | set(extents) | set(furthest)):
        head = heads.get(shard)
        if head is None and shard not in extents:
            reach, at = furthest[shard]
            result.shards[shard] = ShardResult()
            result.problems.append(
                Problem(
                    shard,
                    1,
                    "shard_removed",
                    f"the shard is gone (its head and every event): the checkpoint of {at} "
                    f"covers its events 1–{reach}",
                )
            )
            continue
        shard_result = (walked or {}).get(shard) or _walk(
            reader,
            key,
            shard,
            expected=expected.get(shard),
            head_seq=head[0] if head else None,
            progress=progress,
        )
        result.shards[shard] = shard_result
        problem = shard_result.problem or _check_end(
            shard, shard_result, head, furthest.get(shard), key
        )
        if problem is not None:
            shard_result.problem = problem
            result.problems.append(problem)
    return result


def verify_connection(
    connection: sa.Connection,
    key: bytes,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    batch_size: int = DEFAULT_BATCH,
) -> VerifyResult:
    """Verify through an open SQLAlchemy connection, inside whatever transaction it has."""
    reader = _Reader(connection.connection.dbapi_connection, connection.dialect.name, batch_size)
    try:
        return _verify(reader, key, checkpoints, (), None)
    finally:
        reader.close()


def _open_snapshot(engine: sa.Engine):
    """A raw DB-API connection in a read-only snapshot that never blocks writers.

    SQLite: a plain (deferred) read transaction in WAL mode, not the BEGIN IMMEDIATE the app
    uses for writes. PostgreSQL: REPEATABLE READ, READ ONLY, so events appended meanwhile do not
    make a head look wrong.
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


def _verify_range(url: str, key: bytes, shard: int, lo: int, hi: int, expected, batch: int):
    """Worker process: verify positions lo..hi of `shard`. Returns (ShardResult, CPU s)."""
    cpu_start = time.process_time()
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    try:
        raw = _open_snapshot(engine)
        reader = _Reader(raw, engine.dialect.name, batch)
        try:
            result = _walk(reader, key, shard, lo=lo, hi=hi, expected=expected)
        finally:
            reader.close()
            raw.rollback()
            raw.close()
        return result, time.process_time() - cpu_start
    finally:
        engine.dispose()


def _split(extents: dict[int, int], parts: int) -> list[tuple[int, int, int]]:
    """(shard, lo, hi) ranges of about equal size covering every shard's events."""
    total = sum(extents.values())
    size = max(1, -(-total // parts))
    return [
        (shard, a, min(a + size - 1, end))
        for shard, end in sorted(extents.items())
        for a in range(1, end + 1, size)
    ]


def _parallel(engine, key, reader, checkpoints, workers: int, batch: int):
    """Walk every shard split over worker processes; None when workers cannot start here.

    Each range is anchored on the stored hash of the event before it, which the previous range
    verifies; a shard's result is its first bad range's problem, or its whole length.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    try:
        context = multiprocessing.get_context("forkserver")
    except ValueError:
        return None
    heads = reader.heads()
    extents = reader.extents()
    expected, _furthest = _expectations(checkpoints)
    url = engine.url.render_as_string(hide_password=False)
    ranges = _split(extents, workers)
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [
                pool.submit(_verify_range, url, key, s, a, b, expected.get(s), batch)
                for s, a, b in ranges
            ]
            outcomes = [f.result() for f in futures]
    except (OSError, RuntimeError) as exc:  # no processes here (sandbox, frozen app)
        log.warning("parallel audit verify unavailable (%s); one process", type(exc).__name__)
        return None
    walked: dict[int, ShardResult] = {}
    for (shard, _a, _b), (part, _cpu) in zip(ranges, outcomes, strict=True):
        total = walked.setdefault(shard, ShardResult())
        if total.problem is not None:
            continue
        total.checked += part.checked
        total.last_seq, total.last_hash, total.problem = part.last_seq, part.last_hash, part.problem
        if part.problem is not None and part.problem.kind == "edited" and heads.get(shard):
            # Re-name it with the head known (an event beyond the head is a forgery).
            total.problem = (
                _walk(
                    reader,
                    key,
                    shard,
                    lo=part.problem.position,
                    hi=part.problem.position,
                    head_seq=heads[shard][0],
                ).problem
                or part.problem
            )
    return walked, sum(o[1] for o in outcomes), len(ranges)


def verify_database(
    engine: sa.Engine,
    key: bytes,
    *,
    checkpoints: Sequence[Checkpoint] = (),
    file_problems: Sequence[FileProblem] = (),
    batch_size: int = DEFAULT_BATCH,
    progress: Callable[[int], None] | None = None,
    workers: int | None = None,
    parallel_min: int = PARALLEL_MIN,
) -> VerifyResult:
    """Verify the committed trail in one read-only snapshot that never blocks writers.

    Long trails are split over `workers` processes (default: one per CPU).
    """
    raw = _open_snapshot(engine)
    try:
        reader = _Reader(raw, engine.dialect.name, batch_size)
        try:
            workers = workers if workers is not None else (os.cpu_count() or 1)
            parallel = None
            if workers > 1 and sum(reader.extents().values()) >= max(parallel_min, 2):
                parallel = _parallel(engine, key, reader, checkpoints, workers, batch_size)
            if parallel is None:
                return _verify(reader, key, checkpoints, file_problems, progress)
            walked, cpu, used = parallel
            result = _verify(reader, key, checkpoints, file_problems, progress, walked)
            result.workers, result.worker_cpu_s = used, cpu
            return result
        finally:
            reader.close()
    finally:
        raw.rollback()
        raw.close()
