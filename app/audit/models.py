"""Audit events and the heads of their shards' chains (see app/audit/chain.py)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.audit.guards import attach_guards
from app.db import UTCDateTime
from app.extensions import db

# INTEGER PRIMARY KEY on SQLite is the rowid: walking the chain in seq order is a rowid scan.
_SEQ = sa.BigInteger().with_variant(sa.Integer, "sqlite")


class AuditEvent(db.Model):
    """One event. Holds pseudonymous references only, so it outlives the erasure of a case.

    Written only by `app.audit.services.record`; database triggers (app/audit/guards.py) refuse
    UPDATE, DELETE (and TRUNCATE on PostgreSQL).
    """

    __tablename__ = "audit_events"
    __table_args__ = (
        # "Who viewed which cases between these dates" (flask audit accessed, breach reports).
        sa.Index("ix_audit_events_action_occurred_at", "action", "occurred_at"),
        # A shard's chain, walked in order by `verify`; unique, so a position holds one event.
        sa.UniqueConstraint("shard", "shard_seq"),
        # A case's "who saw it" history, newest first, a page at a time (keyset on seq).
        sa.Index("ix_audit_events_object_ref_seq", "object_ref", "seq"),
    )

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=False)
    # The province whose chain holds the event (0: no province), its position in that chain,
    # and the canonical form its hash covers (1: written before shards; 2: since).
    shard: Mapped[int] = mapped_column()
    shard_seq: Mapped[int] = mapped_column(sa.BigInteger)
    format: Mapped[int] = mapped_column(sa.SmallInteger)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # No foreign keys: events must outlive the users and org units they name.
    actor_user_id: Mapped[int | None] = mapped_column()
    actor_username: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    actor_role: Mapped[str | None] = mapped_column(sa.String(20))
    org_unit_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_ref: Mapped[str | None] = mapped_column(sa.String(80))
    outcome: Mapped[str] = mapped_column(sa.String(10))
    reason: Mapped[str | None] = mapped_column(sa.String(500))
    request_id: Mapped[str | None] = mapped_column(sa.String(32))
    client_address: Mapped[str | None] = mapped_column(sa.String(64))
    # Canonical JSON text, not a JSON column: the hash is over exactly these bytes.
    details: Mapped[str] = mapped_column(sa.Text, default="{}")
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64))

    def __repr__(self) -> str:
        return f"<AuditEvent {self.seq} {self.action} {self.outcome}>"


class AuditShard(db.Model):
    """The head of one shard's chain: its last position and hash, and a MAC of both under the
    audit key. Locking it serializes the appends of one province only."""

    __tablename__ = "audit_shards"

    shard: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger)
    last_hash: Mapped[str] = mapped_column(sa.String(64))
    mac: Mapped[str] = mapped_column(sa.String(64))


# Event numbers on PostgreSQL: nextval never waits for another transaction (SQLite, which has
# one writer at a time, takes max(seq) + 1 instead).
EVENT_SEQUENCE = sa.Sequence("audit_event_seq", metadata=db.metadata)

attach_guards(AuditEvent.__table__, AuditShard.__table__)
