"""Recording audit events: inside the action's transaction, chained, serialized."""

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
    GENESIS_HASH,
    HASHED_FIELDS,
    canonical_details,
    canonical_values,
    keyed_hash,
)
from app.audit.models import AuditEvent, AuditHead
from app.crypto.keyring import keyring
from app.db import begin_writing, utcnow
from app.extensions import db
from app.permissions import Actor

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
_HEAD = AuditHead.__table__
# Core statements, compiled once: an append is three short statements, no ORM unit of work.
_SELECT_HEAD = (
    sa.select(_HEAD.c.last_seq, _HEAD.c.last_hash).where(_HEAD.c.id == 1).with_for_update()
)
_MOVE_HEAD = (
    sa.update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(last_seq=sa.bindparam("new_seq"), last_hash=sa.bindparam("new_hash"))
)
_INSERT_EVENT = sa.insert(_EVENTS)


def _lock_head(connection: sa.Connection) -> tuple[int, str]:
    """The head (last seq, last hash), locked until the transaction ends.

    PostgreSQL: SELECT ... FOR UPDATE serializes appends across connections; a waiting
    transaction reads the head its predecessor committed. SQLite: FOR UPDATE is not emitted;
    the transaction already holds the database write lock (BEGIN IMMEDIATE, see app/db.py).
    """
    row = connection.execute(_SELECT_HEAD).first()
    if row is not None:
        return row[0], row[1]
    if connection.execute(sa.select(sa.func.max(_EVENTS.c.seq))).scalar() is not None:
        # Restarting at seq 1 would fork the chain; refuse rather than hide the damage.
        raise AuditChainError(
            "the audit_head row is missing while audit events exist; "
            "run `flask audit verify` and restore the head from the last good event"
        )
    connection.execute(sa.insert(_HEAD).values(id=1, last_seq=0, last_hash=GENESIS_HASH))
    return 0, GENESIS_HASH


def hold_write_lock(connection: sa.Connection) -> None:
    """Take the audit chain's lock now, for the rest of the transaction. Every audited write
    takes it anyway; shared derived rows (the reports' counts) take it first, so that all
    writers acquire their locks in one order and can never deadlock over them."""
    _lock_head(connection)


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

    # Appends are serialized by the write lock on SQLite (taken here if the transaction began as
    # a read snapshot). Flush the action's own changes first, so the head stays locked for as
    # short a time as possible (PostgreSQL holds the row lock until commit).
    begin_writing(db.session)
    db.session.flush()
    connection = db.session.connection()
    last_seq, last_hash = _lock_head(connection)
    values = {
        "seq": last_seq + 1,
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
    values["hash"] = keyed_hash(
        keyring().audit_key, canonical_values([values[name] for name in HASHED_FIELDS])
    )
    connection.execute(_INSERT_EVENT, values)
    connection.execute(_MOVE_HEAD, {"new_seq": values["seq"], "new_hash": values["hash"]})
    # The trail itself is the table; a debug line helps tracing without a second copy in logs.
    log.debug("audit %s seq=%s outcome=%s", action, values["seq"], outcome)
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


def issue_checkpoint(actor: Actor):
    """Append `audit.checkpoint`, then sign the head it makes (so it covers itself).

    The caller commits, and only then hands the checkpoint out: a checkpoint of a rolled-back
    event would name a chain that never existed.
    """
    from app.audit.verify import make_checkpoint

    event = record(actor, "audit.checkpoint", object_type="audit_log", details={"via": "cli"})
    return make_checkpoint(keyring().audit_key, event.seq, event.hash, event.occurred_at)
