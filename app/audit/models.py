"""Audit events and the chain head that serializes appends."""

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
    )

    seq: Mapped[int] = mapped_column(_SEQ, primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    # No foreign keys: events must outlive the users and org units they name.
    actor_user_id: Mapped[int | None] = mapped_column()
    actor_username: Mapped[str] = mapped_column(sa.String(64), default="", index=True)
    actor_role: Mapped[str | None] = mapped_column(sa.String(20))
    org_unit_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str | None] = mapped_column(sa.String(40))
    object_ref: Mapped[str | None] = mapped_column(sa.String(80), index=True)
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


class AuditHead(db.Model):
    """A single row: the last sequence number and hash. Locking it serializes appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_seq: Mapped[int] = mapped_column(_SEQ)
    last_hash: Mapped[str] = mapped_column(sa.String(64))


@sa.event.listens_for(AuditHead.__table__, "after_create")
def _insert_genesis_head(target, connection, **kw):
    # The migration inserts the same row; this covers metadata.create_all in tests.
    from app.audit.chain import GENESIS_HASH

    connection.execute(target.insert().values(id=1, last_seq=0, last_hash=GENESIS_HASH))


attach_guards(AuditEvent.__table__, AuditHead.__table__)
