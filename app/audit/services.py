"""Recording audit events: inside the action's transaction, chained, serialized."""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa
from flask import g, has_request_context, request

from app.audit.actions import DETAIL_KEYS, is_known_action
from app.audit.chain import GENESIS_HASH, canonical_details, event_hash
from app.audit.models import AuditEvent, AuditHead
from app.crypto.keyring import keyring
from app.db import utcnow
from app.extensions import db
from app.permissions import Actor

log = logging.getLogger(__name__)

OUTCOMES = frozenset({"success", "denied", "error"})
_SCALARS = (str, int, float, bool, type(None))


def _check_details(details: dict[str, Any]) -> None:
    for key, value in details.items():
        if key not in DETAIL_KEYS:
            raise ValueError(f"audit detail key not allowed: {key}")
        values = value if isinstance(value, list | tuple) else [value]
        if isinstance(value, dict):
            values = list(value.keys()) + list(value.values())
        if not all(isinstance(v, _SCALARS) for v in values):
            raise ValueError(f"audit detail {key} must hold plain values")


def _lock_head() -> AuditHead:
    # PostgreSQL: the row lock serializes appends across connections. SQLite: the transaction
    # already holds the database write lock (BEGIN IMMEDIATE, see app/db.py).
    stmt = (
        sa.select(AuditHead)
        .where(AuditHead.id == 1)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    head = db.session.execute(stmt).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, last_seq=0, last_hash=GENESIS_HASH)
        db.session.add(head)
    return head


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
) -> AuditEvent:
    """Append one event in the current transaction; it commits or rolls back with the action."""
    if not is_known_action(action):
        raise ValueError(f"unknown audit action: {action}")
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome: {outcome}")
    details = details or {}
    _check_details(details)
    if obj is not None:
        object_type = object_type or getattr(obj, "__audit_type__", type(obj).__name__.lower())
        object_ref = object_ref or str(getattr(obj, "audit_ref", getattr(obj, "id", "")))
        if org_unit_id is None:
            org_unit_id = getattr(obj, "org_unit_id", None)
    if org_unit_id is None:
        org_unit_id = actor.org_unit_id

    head = _lock_head()
    event = AuditEvent(
        seq=head.last_seq + 1,
        occurred_at=utcnow(),
        actor_user_id=actor.user_id,
        actor_username=actor.username,
        actor_role=str(actor.role) if actor.role else None,
        org_unit_id=org_unit_id,
        action=action,
        object_type=object_type,
        object_ref=object_ref,
        outcome=outcome,
        reason=reason,
        request_id=g.get("request_id") if has_request_context() else None,
        client_address=request.remote_addr if has_request_context() else None,
        details=canonical_details(details),
        prev_hash=head.last_hash,
    )
    event.hash = event_hash(keyring().audit_key, event)
    head.last_seq = event.seq
    head.last_hash = event.hash
    db.session.add(event)
    db.session.flush()
    log.info("audit %s seq=%s ref=%s outcome=%s", action, event.seq, object_ref, outcome)
    return event


def record_denial(
    actor: Actor,
    *,
    action: str = "access.denied",
    object_type: str | None = None,
    object_ref: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Record a refusal in a transaction of its own: whatever the request began is discarded."""
    db.session.rollback()
    event = record(
        actor,
        action,
        object_type=object_type,
        object_ref=object_ref,
        outcome="denied",
        reason=reason,
        details=details,
    )
    db.session.commit()
    return event
