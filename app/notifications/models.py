"""Notifications (the in-app inbox), their outbox deliveries, and each user's settings.

A `Notification` is written in the same transaction as the change that causes it, so it
commits and rolls back with it. Each channel that must carry it outside (e-mail, SMS, Zalo) gets
a `Delivery` row in that same transaction: the outbox. The worker (`delivery.py`) sends pending
deliveries and marks them; nothing about the message is held anywhere else.
"""

from __future__ import annotations

from datetime import datetime, time
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import account_secrets
from app.db import UTCDateTime, utcnow
from app.extensions import db


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    ZALO = "zalo"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DEAD = "dead"  # gave up: listed for an admin, who may retry
    SKIPPED = "skipped"  # not needed any more (read in the app before the digest, no address)


class Notification(db.Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    # What it is about, for the in-app text and the link (never sent outside).
    object_type: Mapped[str | None] = mapped_column(sa.String(20))
    object_id: Mapped[int | None] = mapped_column()
    link: Mapped[str] = mapped_column(sa.String(200), default="/home")
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Reminders are sent once: a second one with the same key is not written.
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(80), unique=True)

    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="notification", order_by="Delivery.id"
    )

    __table_args__ = (sa.Index("ix_notifications_user_id_read_at", "user_id", "read_at"),)
    __audit_type__ = "notification"

    def __repr__(self) -> str:
        return f"<Notification {self.id} {self.kind} user={self.user_id}>"


class Delivery(db.Model):
    """One notification on one outside channel: the outbox row the worker sends."""

    __tablename__ = "notification_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(sa.ForeignKey("notifications.id"), index=True)
    channel: Mapped[str] = mapped_column(sa.String(10))
    status: Mapped[str] = mapped_column(sa.String(10), default=DeliveryStatus.PENDING)
    # Sent with every attempt (SMTP Message-ID, the gateway's Idempotency-Key, ZNS tracking_id):
    # a resend after a crash is recognised by the receiver as the same message.
    idempotency_key: Mapped[str] = mapped_column(sa.String(64), unique=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A worker owns the row until then; a worker killed mid-send leaves it to expire.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    notification: Mapped[Notification] = relationship(back_populates="deliveries")

    __table_args__ = (
        sa.Index("ix_notification_deliveries_status_next", "status", "next_attempt_at"),
    )
    __audit_type__ = "delivery"

    def __repr__(self) -> str:
        return f"<Delivery {self.id} {self.channel} {self.status}>"


class NotificationSettings(db.Model):
    """A user's preferences and contact for outside channels (defaults per role when absent).

    The e-mail address and phone are sealed under the master key like TOTP seeds: a copy of the
    database does not list the staff's phones.
    """

    __tablename__ = "notification_settings"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), unique=True)
    channels: Mapped[list] = mapped_column(sa.JSON, default=list)
    muted_kinds: Mapped[list] = mapped_column(sa.JSON, default=list)
    quiet_start: Mapped[time | None] = mapped_column(sa.Time)
    quiet_end: Mapped[time | None] = mapped_column(sa.Time)
    wants_digest: Mapped[bool] = mapped_column(default=False)
    email_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # A gateway's refusal of the address (shown on the user's settings page until changed).
    email_problem: Mapped[str | None] = mapped_column(sa.String(200))
    phone_problem: Mapped[str | None] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_digest_on: Mapped[str | None] = mapped_column(sa.String(10))  # local date, ISO

    user = relationship("User")

    __audit_type__ = "notification_settings"

    @property
    def audit_ref(self) -> str:
        return str(self.user_id)

    def __repr__(self) -> str:
        return f"<NotificationSettings user={self.user_id}>"


account_secrets.register_sealed_column(NotificationSettings.__table__, "email_enc", "email")
account_secrets.register_sealed_column(NotificationSettings.__table__, "phone_enc", "phone")
