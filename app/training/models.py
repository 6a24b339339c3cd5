"""Staff training: sessions, who attended them, and the staff in post that a plan counts against.

Attendance comes two ways because units keep it two ways: members of staff with an account in
Cầu Nối are named (so one officer trained twice in a period counts once), and everyone else
(officers without an account, volunteers of the commune teams) is a head count per unit.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.training.vocab import FORMATS


class TrainingSession(db.Model):
    """One training course or session (lớp tập huấn) held by a unit on one day."""

    __tablename__ = "training_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The unit that holds the session: attendees come from its subtree.
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"))
    held_on: Mapped[date] = mapped_column(sa.Date)
    topic: Mapped[str] = mapped_column(sa.String(300))
    organizer: Mapped[str] = mapped_column(sa.String(200), default="")
    format: Mapped[str] = mapped_column(sa.String(20))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Soft delete: a deleted session leaves the figures but stays explainable in the audit trail.
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by the Excel import (file digest and row): importing the same file twice adds nothing.
    import_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)

    org_unit: Mapped[OrgUnit] = relationship()
    attendees: Mapped[list[TrainingAttendee]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )
    headcounts: Mapped[list[TrainingHeadcount]] = relationship(
        back_populates="session", cascade="all, delete-orphan"
    )

    __table_args__ = (
        sa.CheckConstraint(f"format IN ({', '.join(repr(v) for v in FORMATS)})", name="format"),
        sa.Index("ix_training_sessions_unit_held_on", "org_unit_id", "held_on"),
    )
    __audit_type__ = "training_session"

    @property
    def audit_ref(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<TrainingSession {self.id} unit={self.org_unit_id}>"


class TrainingAttendee(db.Model):
    """A member of staff with an account who attended a session."""

    __tablename__ = "training_attendees"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True, index=True)

    session: Mapped[TrainingSession] = relationship(back_populates="attendees")
    user: Mapped[User] = relationship()


class TrainingHeadcount(db.Model):
    """Attendees of one unit counted, not named: officers without an account, volunteers."""

    __tablename__ = "training_headcounts"

    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("training_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), primary_key=True)
    officers: Mapped[int] = mapped_column(default=0)
    volunteers: Mapped[int] = mapped_column(default=0)

    session: Mapped[TrainingSession] = relationship(back_populates="headcounts")
    org_unit: Mapped[OrgUnit] = relationship()

    __table_args__ = (
        sa.CheckConstraint("officers >= 0", name="officers"),
        sa.CheckConstraint("volunteers >= 0", name="volunteers"),
    )


class StaffInPost(db.Model):
    """How many officers work at one unit (the unit itself, not the units below it) for a plan:
    the denominator of "% cán bộ được tập huấn". Entered by admins with the plan."""

    __tablename__ = "plan_staff_in_post"

    plan_id: Mapped[int] = mapped_column(
        sa.ForeignKey("plans.id", ondelete="CASCADE"), primary_key=True
    )
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), primary_key=True)
    officers: Mapped[int] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint("officers >= 0", name="officers"),)
