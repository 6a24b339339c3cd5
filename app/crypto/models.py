"""Data keys: one per case, stored only wrapped by a master key kept outside the database."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class DataKey(db.Model):
    """A 256-bit AES key, wrapped (AES-256-GCM) by master key version `master_version`.

    `wrapped_key` is None once the key is destroyed: whatever it sealed is then unreadable
    everywhere, backups included once the master version that wrapped older copies is retired.
    """

    __tablename__ = "data_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    wrapped_key: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # Indexed: rotation selects the keys still under an older version, status counts per version.
    master_version: Mapped[int] = mapped_column(index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    destroyed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __audit_type__ = "data_key"

    @property
    def is_destroyed(self) -> bool:
        return self.wrapped_key is None

    def __repr__(self) -> str:
        state = "destroyed" if self.wrapped_key is None else f"v{self.master_version}"
        return f"<DataKey {self.id} {state}>"


@event.listens_for(Engine, "connect")
def _sqlite_secure_delete(dbapi_connection, connection_record):
    # A destroyed data key must not survive in SQLite's free pages: overwrite deleted content
    # with zeros. (Debian builds default to it; other builds do not.) PostgreSQL keeps dead
    # tuples until VACUUM: there erasure rests on retiring the master version, as for backups.
    if type(dbapi_connection).__module__.split(".")[0] != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.close()
