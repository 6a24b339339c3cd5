"""An import run and its staged rows (app.imports.services says how they are used)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db


class RunStatus(StrEnum):
    STAGING = "staging"  # the upload's rows are being written to the staging table
    QUEUED = "queued"  # staged; waiting for the job
    VALIDATING = "validating"
    PUBLISHING = "publishing"
    DONE = "done"
    REFUSED = "refused"  # a row is wrong: nothing was imported
    FAILED = "failed"  # stopped while publishing: what was published is withdrawn


OPEN_STATUSES = (
    RunStatus.STAGING,
    RunStatus.QUEUED,
    RunStatus.VALIDATING,
    RunStatus.PUBLISHING,
)


class ImportRun(db.Model):
    """One upload being imported: who, into which unit, how far, and the errors by row.

    Errors are our own messages with row numbers, never a value from the file."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    status: Mapped[str] = mapped_column(sa.String(12), default=RunStatus.STAGING, index=True)
    via: Mapped[str] = mapped_column(sa.String(8), default="web")
    org_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # The system actor's name when the command line imports without --as.
    actor_name: Mapped[str | None] = mapped_column(sa.String(64))
    rows_total: Mapped[int] = mapped_column(default=0)
    rows_validated: Mapped[int] = mapped_column(default=0)
    rows_published: Mapped[int] = mapped_column(default=0)
    # Of the published rows, those that wrote something new (a row already imported from the
    # same file is published without writing again).
    rows_created: Mapped[int] = mapped_column(default=0)
    error_count: Mapped[int] = mapped_column(default=0)
    errors: Mapped[list | None] = mapped_column(sa.JSON)
    data_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("data_keys.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Moved at every batch: a run open and untouched for long was killed (services.recover).
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    data_key = relationship("DataKey")
    org_unit = relationship("OrgUnit")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<ImportRun {self.id} {self.kind} {self.status}>"


class StagedRow(db.Model):
    """One row of the file, sealed with the run's data key and bound to its row number; once
    published, the id of what it became (so a stopped run can withdraw exactly that)."""

    __tablename__ = "import_staged_rows"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(sa.ForeignKey("import_runs.id", ondelete="CASCADE"))
    row_number: Mapped[int]
    payload_enc: Mapped[bytes] = mapped_column(sa.LargeBinary)
    published_id: Mapped[int | None]

    __table_args__ = (sa.UniqueConstraint("run_id", "row_number"),)

    def __repr__(self) -> str:
        return f"<StagedRow run={self.run_id} row={self.row_number}>"
