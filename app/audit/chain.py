"""Canonical serialization and keyed hashing of audit events."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC

GENESIS_HASH = "0" * 64

HASHED_FIELDS = (
    "seq",
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
)


def canonical_bytes(event) -> bytes:
    """The exact bytes the hash covers: sorted-key compact JSON of every field but the hash."""
    values = {}
    for name in HASHED_FIELDS:
        value = getattr(event, name)
        if name == "occurred_at":
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        values[name] = value
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(key: bytes, event) -> str:
    return hmac.new(key, canonical_bytes(event), hashlib.sha256).hexdigest()


def canonical_details(details: dict) -> str:
    return json.dumps(details, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
