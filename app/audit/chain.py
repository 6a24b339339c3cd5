"""The one canonical serialization of audit events, their keyed hashes, keyed shard heads and
the Merkle tree that binds the heads together. Free of Flask and of the database.

The trail is split into shards (one per province, shard 0 for events of no province), each its
own hash chain, so that audited actions in different provinces never wait on one another. An
event's hash is HMAC-SHA256, under the audit key (kept outside the database), of `canonical`:
a compact JSON array in a fixed field order, tagged with a format version, the previous event's
hash of the same shard included. Whoever holds only the database can change a row but cannot
compute the hash that would match.

* format 2 (every new event): ``["caunoi-audit/2", seq, shard, shard_seq, time, ..., prev_hash]``;
* format 1 (events written before shards existed, migrated into shard 0 unchanged):
  ``["caunoi-audit/1", seq, time, ..., prev_hash]``, valid only with shard 0 and shard_seq = seq.

Writing (`app.audit.services.record`) and verifying (`app.audit.verify`) both call `canonical`
on a row in `STORED_COLUMNS` order: there is no second copy of the rule to drift apart.

A fixed order (rather than a sorted-key object) is as unambiguous and about twice as fast to
build, which matters when `verify` walks millions of events.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

FORMAT_TAGS = {1: "caunoi-audit/1", 2: "caunoi-audit/2"}
CURRENT_FORMAT = 2
GENESIS_HASH = "0" * 64
NO_PROVINCE_SHARD = 0

# Every stored column of an event, in the order `canonical` reads them; the hash comes last
# and is the one column its own serialization does not cover.
STORED_COLUMNS = (
    "seq",
    "shard",
    "shard_seq",
    "format",
    "occurred_at",
    "actor_user_id",
    "actor_username",
    "actor_role",
    "org_unit_id",
    "action",
    "object_type",
    "object_ref",
    "outcome",
    "reason",
    "request_id",
    "client_address",
    "details",
    "prev_hash",
    "hash",
)
# Positions used by the verifier's hot loop.
SEQ, SHARD, SHARD_SEQ, FORMAT, TIME, PREV_HASH, HASH = 0, 1, 2, 3, 4, 17, 18

HEAD_DOMAIN = "caunoi-audit-head/1"

_encoder = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _make_fast_encode():
    """json.dumps(..., ensure_ascii=False, separators=(",", ":"), allow_nan=False) for a list.

    JSONEncoder.encode builds a new C encoder on every call, which is half the cost of a short
    list; we build it once. Falls back to the public encoder where the C one is unavailable.
    """
    try:
        from json.encoder import c_make_encoder, encode_basestring

        if c_make_encoder is None:
            raise ImportError
        iterencode = c_make_encoder(
            None, _encoder.default, encode_basestring, None, ":", ",", False, False, False
        )
        sample = ['x"é\n', 1, None, 2.5, True]
        if "".join(iterencode(sample, 0)) != _encoder.encode(sample):
            raise ImportError
    except (ImportError, TypeError):
        return _encoder.encode
    join = "".join
    return lambda value: join(iterencode(value, 0))


encode_list = _make_fast_encode()


def format_time(value: datetime | str) -> str:
    """The canonical text of an event time: UTC, microseconds, ``Z``.

    Accepts the aware datetime the ORM gives, or the text SQLite stores
    (``YYYY-MM-DD HH:MM:SS.ffffff``, which SQLAlchemy always writes with microseconds).
    """
    if isinstance(value, str):
        if len(value) == 26 and value[10] == " " and value[19] == ".":
            return f"{value[:10]}T{value[11:]}Z"
        value = datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
    if value.tzinfo is None:
        raise ValueError("naive datetime in an audit event")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_TAG1, _TAG2 = FORMAT_TAGS[1], FORMAT_TAGS[2]


def canonical(row: Sequence[Any]) -> bytes:
    """The exact bytes an event's hash covers; `row` holds STORED_COLUMNS values in order (the
    hash itself, if present, is ignored). Raises ValueError for a row no application write
    could produce (unknown format, a format-1 row outside shard 0, a malformed time)."""
    t = row[4]
    if type(t) is str and len(t) == 26 and t[10] == " ":  # SQLite's stored text: the hot path
        t = f"{t[:10]}T{t[11:]}Z"
    else:
        t = format_time(t)
    fmt = row[3]
    if fmt == 2:
        return encode_list([_TAG2, row[0], row[1], row[2], t, *row[5:18]]).encode()
    if fmt == 1:
        if row[1] != 0 or row[2] != row[0]:
            raise ValueError("a format-1 event lies only in shard 0 at its own sequence number")
        return encode_list([_TAG1, row[0], t, *row[5:18]]).encode()
    raise ValueError(f"unknown audit event format {fmt!r}")


def event_row(event) -> tuple:
    """An event object's STORED_COLUMNS values, in order."""
    return tuple(getattr(event, name) for name in STORED_COLUMNS)


def keyed_hash(key: bytes, data: bytes) -> str:
    return hmac.digest(key, data, "sha256").hex()


def keyed_hasher(key: bytes):
    """A function data -> hex HMAC-SHA256 under `key`; copying a keyed state is the cheapest."""
    base = hmac.new(key, digestmod=hashlib.sha256)

    def digest(data: bytes) -> str:
        h = base.copy()
        h.update(data)
        return h.hexdigest()

    return digest


def event_hash(key: bytes, event) -> str:
    return keyed_hash(key, canonical(event_row(event)))


def unkeyed_hash(data: bytes) -> str:
    """Plain SHA-256: what a forger without the audit key might write. Used to name forgeries."""
    return hashlib.sha256(data).hexdigest()


def canonical_details(details: dict) -> str:
    return json.dumps(
        details, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


# ------------------------------------------------------------------------------ shard heads


def head_mac(key: bytes, shard: int, last_seq: int, last_hash: str) -> str:
    """The MAC a shard head carries: whoever holds only the database cannot move it (rewind it
    after cutting events off, or reset it after a wipe) to a position of their choosing."""
    return keyed_hash(key, encode_list([HEAD_DOMAIN, shard, last_seq, last_hash]).encode())


def shard_of_path(path: str | None, central_id: int | None = None) -> int:
    """The shard of an org unit: its province, the first id of its materialized path, or the
    second under the central unit of a national deployment (whose own events are its shard)."""
    if not path:
        return NO_PROVINCE_SHARD
    parts = path.strip("/").split("/")
    if not parts[0].isdigit():
        return NO_PROVINCE_SHARD
    if central_id is not None and int(parts[0]) == central_id and len(parts) > 1:
        return int(parts[1]) if parts[1].isdigit() else NO_PROVINCE_SHARD
    return int(parts[0])


# ------------------------------------------------------------------------------ Merkle tree


def head_leaf(shard: int, last_seq: int, last_hash: str) -> bytes:
    return encode_list([shard, last_seq, last_hash]).encode()


def merkle_root(leaves: Sequence[bytes]) -> str:
    """RFC 9162 (Certificate Transparency 2.0) Merkle Tree Hash of `leaves`, hex.

    MTH({}) = SHA-256(); leaf = SHA-256(0x00 || d); node = SHA-256(0x01 || left || right), the
    left subtree holding the largest power of two smaller than n leaves.
    """
    if not leaves:
        return hashlib.sha256(b"").hexdigest()
    return _mth(list(leaves)).hex()


def _mth(leaves: list[bytes]) -> bytes:
    n = len(leaves)
    if n == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1 << ((n - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()
