"""Recording audit events: inside the action's transaction, chained, serialized per shard.

Each event goes into the chain of its province's shard (app/audit/chain.py). Appending locks that
shard's head row until the transaction ends, so two actions in the same province take turns and
two actions in different provinces never wait on each other; no row serializes the country.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context, request

from app.audit.actions import DETAIL_KEYS, is_known_action
from app.audit.chain import (
    CURRENT_FORMAT,
    GENESIS_HASH,
    NO_PROVINCE_SHARD,
    STORED_COLUMNS,
    canonical,
    canonical_details,
    head_mac,
    keyed_hash,
    shard_of_path,
)
from app.audit.models import AuditEvent, AuditShard
from app.crypto.keyring import keyring
from app.db import begin_writing, utcnow
from app.extensions import db
from app.permissions import Actor, record_denials_with

log = logging.getLogger(__name__)

OUTCOMES = frozenset({"success", "denied", "error"})
_SCALARS = (str, int, float, bool, type(None))
_LIMITS = {"object_type": 40, "object_ref": 80, "reason": 500}

# A reference taken from a request (URL segment, form field) is kept in a denial only when it
# looks like one of our pseudonymous codes: digits only (row ids), a UUID, or an upper-case code
# with at least one digit (NB-2026-00042, 37-A1). Anything else may be a name someone typed.
_SAFE_UNTRUSTED_REF = re.compile(
    r"^(?:\d{1,19}"
    r"|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
    r"|(?=[A-Z0-9-]*\d)[A-Z0-9]{1,12}(?:-[A-Z0-9]{1,12}){0,5})$"
)


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """What `record` wrote: the same fields as the AuditEvent row (which never changes)."""

    seq: int
    shard: int
    shard_seq: int
    format: int
    occurred_at: datetime
    actor_user_id: int | None
    actor_username: str
    actor_role: str | None
    org_unit_id: int | None
    action: str
    object_type: str | None
    object_ref: str | None
    outcome: str
    reason: str | None
    request_id: str | None
    client_address: str | None
    details: str
    prev_hash: str
    hash: str


class AuditChainError(RuntimeError):
    """The chain cannot be appended to safely; the message says what to check."""


def _check_details(details: dict[str, Any]) -> None:
    for key, value in details.items():
        if key not in DETAIL_KEYS:
            raise ValueError(f"audit detail key not allowed: {key}")
        if isinstance(value, dict):
            values = [*value.keys(), *value.values()]
        elif isinstance(value, list | tuple | set | frozenset):
            values = list(value)
        else:
            values = [value]
        if not all(isinstance(v, _SCALARS) for v in values):
            raise ValueError(f"audit detail {key} must hold plain values")


def _check_lengths(**fields: str | None) -> None:
    # Both backends must refuse the same event: SQLite would silently keep an over-long value.
    for name, value in fields.items():
        if value is not None and len(value) > _LIMITS[name]:
            raise ValueError(f"audit {name} longer than {_LIMITS[name]} characters")


_EVENTS = AuditEvent.__table__
_SHARDS = AuditShard.__table__
_ORG_UNITS = sa.table(
    "org_units", sa.column("id"), sa.column("path"), sa.column("parent_id"), sa.column("level")
)
# Core statements, compiled once: an append is three short statements, no ORM unit of work.
# The head's row lock serializes the shard's appends; the event number comes with it, from a
# sequence on PostgreSQL (nextval never waits) and from max(seq) + 1 on SQLite, whose
# transaction already holds the database write lock (BEGIN IMMEDIATE, see app/db.py).
_LOCK_SHARD = {
    "postgresql": sa.text(
        "SELECT last_seq, last_hash, nextval('audit_event_seq') FROM audit_shards "
        "WHERE shard = :shard FOR UPDATE"
    ),
    "sqlite": sa.text(
        "SELECT last_seq, last_hash, (SELECT coalesce(max(seq), 0) + 1 FROM audit_events) "
        "FROM audit_shards WHERE shard = :shard"
    ),
}
_OPEN_SHARD = {
    "postgresql": sa.text(
        "INSERT INTO audit_shards (shard, last_seq, last_hash, mac) "
        "VALUES (:shard, 0, :hash, :mac) ON CONFLICT (shard) DO NOTHING"
    ),
    "sqlite": sa.text(
        "INSERT OR IGNORE INTO audit_shards (shard, last_seq, last_hash, mac) "
        "VALUES (:shard, 0, :hash, :mac)"
    ),
}
_MOVE_HEAD = (
    sa.update(_SHARDS)
    .where(_SHARDS.c.shard == sa.bindparam("head_shard"))
    .values(
        last_seq=sa.bindparam("new_seq"),
        last_hash=sa.bindparam("new_hash"),
        mac=sa.bindparam("new_mac"),
    )
)
_INSERT_EVENT = sa.insert(_EVENTS)


def _lock_shard(connection: sa.Connection, shard: int) -> tuple[int, str, int]:
    """The shard's head (last position, last hash) locked until the transaction ends, and the
    number of the next event. A shard is opened (genesis head) the first time it is used."""
    statement = _LOCK_SHARD[connection.dialect.name]
    row = connection.execute(statement, {"shard": shard}).first()
    if row is not None:
        return row[0], row[1], row[2]
    if connection.execute(
        sa.select(_EVENTS.c.seq).where(_EVENTS.c.shard == shard).limit(1)
    ).first():
        # Restarting at position 1 would fork the chain; refuse rather than hide the damage.
        raise AuditChainError(
            f"the head of audit shard {shard} is missing while its events exist; "
            "run `flask audit verify` and restore the head from the last good event"
        )
    mac = head_mac(keyring().audit_key, shard, 0, GENESIS_HASH)
    connection.execute(
        _OPEN_SHARD[connection.dialect.name], {"shard": shard, "hash": GENESIS_HASH, "mac": mac}
    )
    row = connection.execute(statement, {"shard": shard}).first()
    return row[0], row[1], row[2]


_CENTRAL_KEY = "caunoi.central_unit"


def central_unit_id(connection: sa.Connection) -> int | None:
    """The central unit's id (None in a provincial deployment), read once per transaction.

    Under it every path starts with its id: taken for the shard, it made one chain, and one
    lock, of the whole country. Kept per transaction, not longer: the unit can be added by
    another process (`flask orgs add-central`) while this one runs."""
    transaction = connection.get_transaction()
    cached = connection.info.get(_CENTRAL_KEY)
    if cached is not None and cached[0] is transaction:
        return cached[1]
    found = connection.execute(
        sa.select(_ORG_UNITS.c.id).where(
            _ORG_UNITS.c.parent_id.is_(None), _ORG_UNITS.c.level == "central"
        )
    ).scalar()
    connection.info[_CENTRAL_KEY] = (transaction, found)
    return found


def forget_central_unit(connection: sa.Connection) -> None:
    """The central unit was just added in this transaction: read it again."""
    connection.info.pop(_CENTRAL_KEY, None)


def shards_of_units(connection: sa.Connection, unit_ids) -> list[int]:
    """The shards (provinces) of these org units, in ascending order."""
    ids = sorted({i for i in unit_ids if i is not None})
    if not ids:
        return []
    paths = connection.execute(sa.select(_ORG_UNITS.c.path).where(_ORG_UNITS.c.id.in_(ids)))
    central = central_unit_id(connection)
    return sorted({shard_of_path(path, central) for (path,) in paths})


def lock_shards(connection: sa.Connection, shards) -> None:
    """Lock these shards' heads now, for the rest of the transaction, in ascending order.

    Every audited write locks its shard anyway. Rows shared by the writers of a province (the
    reports' counts, app.reports.figures) are touched only after locking the shards of the
    provinces they belong to, so all writers take their locks in one order: shard heads in
    ascending order, then the shared rows. Two transactions can then only deadlock if one of them
    spans two provinces twice over (a case moved between provinces), which PostgreSQL detects.
    """
    for shard in sorted(set(shards)):
        _lock_shard(connection, shard)


def _shard_of(connection: sa.Connection, actor: Actor, obj: Any, org_unit_id) -> int:
    """The province shard of an event about `org_unit_id`, with no query when it is known
    (beyond the central unit's id, once per transaction)."""
    if org_unit_id is None:
        return NO_PROVINCE_SHARD
    central = central_unit_id(connection)
    if org_unit_id == actor.org_unit_id and actor.org_path:
        return shard_of_path(actor.org_path, central)
    # A relationship the action already loaded (a case's org unit): no query, no lazy load.
    unit = getattr(obj, "__dict__", {}).get("org_unit")
    if unit is not None and getattr(unit, "id", None) == org_unit_id and unit.path:
        return shard_of_path(unit.path, central)
    path = connection.execute(
        sa.select(_ORG_UNITS.c.path).where(_ORG_UNITS.c.id == org_unit_id)
    ).scalar()
    return shard_of_path(path, central)


def _client_address() -> str | None:
    return (request.remote_addr or "")[:64] or None


def _object_fields(obj: Any, object_type, object_ref, org_unit_id):
    object_type = object_type or getattr(obj, "__audit_type__", type(obj).__name__.lower())
    if object_ref is None:
        ref = getattr(obj, "audit_ref", None)
        if ref is None:
            ref = getattr(obj, "id", None)
        object_ref = None if ref is None else str(ref)
    if org_unit_id is None:
        org_unit_id = getattr(obj, "org_unit_id", None)
        if org_unit_id is None and object_type == "org_unit":
            org_unit_id = getattr(obj, "id", None)
    return object_type, object_ref, org_unit_id


def record(
    actor: Actor,
    action: str,
    obj: Any = None,
    *,
    object_type: str | None = None,
    object_ref: str | None = None,
    org_unit_id: int | None = None,
    outcome: str = "success",
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> RecordedEvent:
    """Append one event in the current transaction; it commits or rolls back with the action.

    `obj` gives the object type (`__audit_type__`), its pseudonymous reference (`audit_ref`, else
    its id) and its org unit; explicit keyword arguments win. The org unit defaults to the
    actor's, so a supervisor sees the events of their subtree.
    """
    if not is_known_action(action):
        raise ValueError(f"unknown audit action: {action}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome: {outcome}")
    details = details or {}
    _check_details(details)
    if obj is not None:
        object_type, object_ref, org_unit_id = _object_fields(
            obj, object_type, object_ref, org_unit_id
        )
    if org_unit_id is None:
        org_unit_id = actor.org_unit_id
    _check_lengths(object_type=object_type, object_ref=object_ref, reason=reason)
    in_request = has_request_context()

    # Flush the action's own changes first, so the shard head stays locked for as short a time
    # as possible (PostgreSQL holds the row lock until commit). On SQLite, a transaction that
    # began as a read snapshot takes the write lock here.
    begin_writing(db.session)
    db.session.flush()
    connection = db.session.connection()
    shard = _shard_of(connection, actor, obj, org_unit_id)
    last_seq, last_hash, seq = _lock_shard(connection, shard)
    values = {
        "seq": seq,
        "shard": shard,
        "shard_seq": last_seq + 1,
        "format": CURRENT_FORMAT,
        "occurred_at": utcnow(),
        "actor_user_id": actor.user_id,
        "actor_username": actor.username,
        "actor_role": str(actor.role) if actor.role else None,
        "org_unit_id": org_unit_id,
        "action": action,
        "object_type": object_type,
        "object_ref": object_ref,
        "outcome": outcome,
        "reason": reason,
        "request_id": g.get("request_id") if in_request else None,
        "client_address": _client_address() if in_request else None,
        "details": canonical_details(details),
        "prev_hash": last_hash,
    }
    key = keyring().audit_key
    values["hash"] = keyed_hash(key, canonical([values[name] for name in STORED_COLUMNS[:-1]]))
    connection.execute(_INSERT_EVENT, values)
    connection.execute(
        _MOVE_HEAD,
        {
            "head_shard": shard,
            "new_seq": values["shard_seq"],
            "new_hash": values["hash"],
            "new_mac": head_mac(key, shard, values["shard_seq"], values["hash"]),
        },
    )
    # The trail itself is the table; a debug line helps tracing without a second copy in logs.
    log.debug("audit %s seq=%s shard=%s outcome=%s", action, seq, shard, outcome)
    event = RecordedEvent(**values)
    return event


def untrusted_ref(ref: str | None) -> str | None:
    """`ref` if it looks like a pseudonymous code, else None (it may be a name typed in a URL)."""
    if ref is None:
        return None
    return ref if _SAFE_UNTRUSTED_REF.match(ref) else None


def record_denial(
    actor: Actor,
    *,
    action: str = "access.denied",
    object_type: str | None = None,
    object_ref: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> RecordedEvent:
    """Record a refusal in a transaction of its own: whatever the request began is discarded.

    `object_ref` usually comes from the URL, so it is kept only when it looks like a
    pseudonymous code (see `untrusted_ref`); the view's endpoint name and method are recorded
    instead of the path, which could carry anything the user typed.
    """
    db.session.rollback()
    details = dict(details or {})
    safe_ref = untrusted_ref(object_ref)
    if object_ref is not None and safe_ref is None:
        details["withheld"] = "object_ref"
    if has_request_context() and request.endpoint:
        details.setdefault("endpoint", request.endpoint)
        details.setdefault("method", request.method)
    event = record(
        actor,
        action,
        object_type=object_type,
        object_ref=safe_ref,
        outcome="denied",
        reason=reason,
        details=details,
    )
    db.session.commit()
    return event


def record_audit_viewed(
    actor: Actor, filters: dict[str, str], *, via: str = "web"
) -> RecordedEvent:
    """Reading the audit trail is itself audited (filters already made safe to record)."""
    return record(
        actor, "audit.viewed", object_type="audit_log", details={"filters": filters, "via": via}
    )


def record_audit_exported(
    actor: Actor, filters: dict[str, str], rows: int, *, via: str = "web", report: str = "events"
) -> RecordedEvent:
    """An export of the audit trail (viewer CSV, breach report) names its filters and size."""
    return record(
        actor,
        "audit.exported",
        object_type="audit_log",
        details={"filters": filters, "rows": rows, "format": "csv", "via": via, "report": report},
    )


def checkpoint_after(*events: RecordedEvent):
    """A signed checkpoint of every shard head, with the shards of `events` (recorded in this
    transaction) at those events; appended to the checkpoint file when the transaction commits
    (a checkpoint of a rolled-back event would name a chain that never existed)."""
    from app.audit import checkpoints

    checkpoint = checkpoints.checkpoint_with(db.session.connection(), keyring().audit_key, events)
    path = checkpoints.checkpoint_path()
    if str(path):
        checkpoints.write_after_commit(db.session, checkpoint, path)
    return checkpoint


def issue_checkpoint(actor: Actor, *, via: str = "cli"):
    """Append `audit.checkpoint`, then sign every shard head with it (so it covers itself)."""
    event = record(actor, "audit.checkpoint", object_type="audit_log", details={"via": via})
    return checkpoint_after(event)


# Every refusal (`app.permissions.deny`) is recorded here: permissions sits below the audit
# trail and cannot import it.
record_denials_with(record_denial)
