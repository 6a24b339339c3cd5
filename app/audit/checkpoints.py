"""Signed checkpoints of every shard head, kept outside the audit tables.

A checkpoint binds all shard heads of a moment together: the RFC 9162 Merkle root of the heads
(shard, position, hash), signed with HMAC under the audit key. Checkpoints are appended, one per
line, to a file outside the database (``AUDIT_CHECKPOINT_FILE``, by default
``instance/audit-checkpoints.log``, mode 0600): every 15 minutes (the job `audit-checkpoint`,
app/audit/tasks.py), on every report export and by ``flask audit checkpoint``. `flask audit
verify` reads them all back: whoever holds only the database cannot cut the end off a shard,
wipe one, or remove one without the chain falling short of a checkpoint; whoever edits the
file breaks its signature.

A checkpoint that names an uncommitted event would name a chain that never existed, so those
made inside a transaction are written to the file only after it commits.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hmac
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.audit.chain import (
    encode_list,
    format_time,
    head_leaf,
    keyed_hash,
    merkle_root,
)
from app.db import utcnow

log = logging.getLogger(__name__)

DOMAIN = "caunoi-audit-checkpoint/2"
_PENDING = "caunoi_pending_checkpoints"  # session.info: (path, checkpoint) to write at commit

Head = tuple[int, int, str]  # shard, last position, last hash


class CheckpointError(ValueError):
    """The checkpoint text is malformed or its signature does not verify with the audit key."""


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement: at `at`, shard s's chain reached position n with hash h, for each
    (s, n, h) in `heads` (sorted by shard); `root` is their Merkle tree hash."""

    at: str
    heads: tuple[Head, ...]
    root: str
    signature: str = field(default="", compare=False)

    @classmethod
    def of(cls, heads, at) -> Checkpoint:
        heads = tuple(sorted((int(s), int(n), str(h)) for s, n, h in heads))
        return cls(format_time(at), heads, merkle_root([head_leaf(*h) for h in heads]))

    def _message(self) -> bytes:
        return encode_list([DOMAIN, self.at, len(self.heads), self.root]).encode()

    def signed(self, key: bytes) -> Checkpoint:
        return Checkpoint(self.at, self.heads, self.root, keyed_hash(key, self._message()))

    def position(self, shard: int) -> tuple[int, str] | None:
        for s, n, h in self.heads:
            if s == shard:
                return n, h
        return None

    def encode(self) -> str:
        """One copyable line: base64url of a small JSON object, no padding."""
        body = {"v": 2, "at": self.at, "heads": self.heads, "root": self.root}
        body["sig"] = self.signature
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str, key: bytes) -> Checkpoint:
        """Parse and check the Merkle root and the signature; raises CheckpointError."""
        text = "".join(value.split())
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            body = json.loads(raw)
            if body.get("v") != 2:
                raise CheckpointError("unknown checkpoint version")
            heads = tuple((int(s), int(n), str(h)) for s, n, h in body["heads"])
            at, root, sig = str(body["at"]), str(body["root"]), str(body["sig"])
        except (binascii.Error, ValueError, KeyError, TypeError, AttributeError):
            raise CheckpointError("it is not a Cầu Nối audit checkpoint") from None
        checkpoint = cls(at, heads, root, sig)
        if list(heads) != sorted(heads) or merkle_root([head_leaf(*h) for h in heads]) != root:
            raise CheckpointError("its shard heads do not give its Merkle root (altered)")
        if not hmac.compare_digest(checkpoint.signed(key).signature, sig):
            raise CheckpointError(
                "its signature does not verify with the audit key "
                "(altered, or made with another key set)"
            )
        return checkpoint


# ------------------------------------------------------------------------------ the file


def append_checkpoint(path: str | os.PathLike, checkpoint: Checkpoint) -> None:
    """Append one line to the checkpoint file (created 0600, its folder 0700 when new)."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # several workers write the same file
        os.write(fd, (checkpoint.encode() + "\n").encode())
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class FileProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"checkpoint line {self.line}: {self.message}"


def load_checkpoints(
    path: str | os.PathLike, key: bytes
) -> tuple[list[Checkpoint], list[FileProblem]]:
    """Every checkpoint of the file, and a problem for each line that does not verify."""
    checkpoints: list[Checkpoint] = []
    problems: list[FileProblem] = []
    try:
        lines = Path(path).read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return [], []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            checkpoints.append(Checkpoint.decode(line, key))
        except CheckpointError as exc:
            problems.append(FileProblem(number, f"refused: {exc}"))
    return checkpoints, problems


# ------------------------------------------------------------------------------ making them


def read_heads(connection: sa.Connection) -> list[Head]:
    rows = connection.execute(
        sa.text("SELECT shard, last_seq, last_hash FROM audit_shards ORDER BY shard")
    )
    return [(int(s), int(n), h) for s, n, h in rows]


def checkpoint_path(app=None) -> Path:
    from flask import current_app

    app = app or current_app
    return Path(app.config.get("AUDIT_CHECKPOINT_FILE") or "")


def checkpoint_with(connection: sa.Connection, key: bytes, events=()) -> Checkpoint:
    """A signed checkpoint of the committed heads, with the shards of `events` (recorded in this
    transaction, uncommitted) at those events."""
    heads = {s: (s, n, h) for s, n, h in read_heads(connection)}
    for e in events:
        heads[e.shard] = (e.shard, e.shard_seq, e.hash)
    return Checkpoint.of(heads.values(), utcnow()).signed(key)


def write_after_commit(session, checkpoint: Checkpoint, path: Path) -> None:
    """Queue `checkpoint` for the file; written once the session's transaction commits."""
    session.info.setdefault(_PENDING, []).append((path, checkpoint))


@event.listens_for(Session, "after_commit")
def _write_pending(session):
    for path, checkpoint in session.info.pop(_PENDING, ()):
        try:
            append_checkpoint(path, checkpoint)
        except OSError:
            # The action has committed; the next scheduled checkpoint covers it.
            log.exception("audit checkpoint not written to %s", path)


@event.listens_for(Session, "after_transaction_end")
def _drop_pending(session, transaction):
    # After a commit the list is already gone (after_commit runs first); after a rollback of
    # the outermost transaction, its checkpoints name events that never were.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def write_checkpoint_now(engine: sa.Engine, key: bytes, path: Path) -> Checkpoint:
    """Read the committed heads in a short transaction of its own and append their checkpoint."""
    with engine.connect() as connection:
        checkpoint = checkpoint_with(connection, key)
        connection.rollback()
    append_checkpoint(path, checkpoint)
    return checkpoint
