"""Audit events and the chain head that serializes appends."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime
from app.extensions import db


class AuditEvent(db.Model):
    """One event. Holds pseudonymous references only, so it outlives the erasure of a case."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"),
                                     primary_key=True, autoincrement=False)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(index=True)
    actor_username: Mapped[str] = mapped_column(sa.String(64), default="")
    actor_role: Mapped[str | None] = mapped_column(sa.String(20))
    org_unit_id: Mapped[int | None] = mapped_column(index=True)
    action: Mapped[str] = mapped_column(sa.String(64), index=True)
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
    """A single row: the last sequence number and hash. Updating it first locks the chain."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_seq: Mapped[int] = mapped_column(sa.BigInteger().with_variant(sa.Integer, "sqlite"))
    last_hash: Mapped[str] = mapped_column(sa.String(64))


@sa.event.listens_for(AuditHead.__table__, "after_create")
def _insert_genesis_head(target, connection, **kw):
    # The migration inserts the same row; this covers metadata.create_all in tests.
    from app.audit.chain import GENESIS_HASH

    connection.execute(target.insert().values(id=1, last_seq=0, last_hash=GENESIS_HASH))
