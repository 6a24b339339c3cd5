"""Follow-ups (a date and a short task on a case or one of its referrals) and the case plan (a
goal per need, with a target date and a review note).

The task, the goal and the review note are free text that may name the person, so they are
sealed with the case's own data key like every other note (erasing the case erases them).
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db


class FollowUp(db.Model):
    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    referral_id: Mapped[int | None] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    due_on: Mapped[date] = mapped_column(sa.Date, index=True)
    task_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    assigned_to_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    case = relationship("Case")
    referral = relationship("Referral")
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])

    __table_args__ = (sa.Index("ix_followups_assigned_to_id_done_at", "assigned_to_id", "done_at"),)

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def __repr__(self) -> str:
        return f"<FollowUp {self.id} case={self.case_id} due={self.due_on}>"


class CaseGoal(db.Model):
    """One line of the case plan: the goal for one need."""

    __tablename__ = "case_goals"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), unique=True)
    goal_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    target_on: Mapped[date | None] = mapped_column(sa.Date)
    review_note_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    need = relationship("Need")

    def __repr__(self) -> str:
        return f"<CaseGoal {self.id} need={self.need_id}>"
