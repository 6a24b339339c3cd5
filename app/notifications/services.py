"""Actions on notifications: read, settings (audited), an admin's retry of a dead delivery."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app import jobs
from app.audit import services as audit
from app.db import begin_writing, utcnow
from app.extensions import db
from app.notifications import preferences
from app.notifications.delivery import retry_dead
from app.notifications.models import Delivery, DeliveryStatus, Notification, NotificationSettings
from app.permissions import Actor, PermissionDenied, Role


class SettingsError(Exception):
    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field = field
        self.message = message


@dataclass(frozen=True)
class SettingsInput:
    channels: tuple[str, ...]
    muted_kinds: tuple[str, ...]
    quiet_start: time | None
    quiet_end: time | None
    wants_digest: bool
    email: str
    phone: str


def mark_read(actor: Actor, note: Notification) -> Notification:
    """Reading is the recipient's own business: not audited (it says nothing about a case)."""
    if note.user_id != actor.user_id:
        raise PermissionDenied
    if note.read_at is None:
        begin_writing(db.session)  # opened by a link (GET): the page began as a read snapshot
        note.read_at = utcnow()
    return note


def mark_all_read(actor: Actor) -> int:
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == actor.user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    return result.rowcount or 0


def save_settings(actor: Actor, data: SettingsInput) -> NotificationSettings:
    """A user sets her own channels, events, quiet hours, digest and addresses (audited,
    without the addresses themselves)."""
    email = data.email.strip()
    if email and not preferences.is_valid_email(email):
        raise SettingsError("email", _l("Địa chỉ e-mail không hợp lệ."))
    phone = None
    if data.phone.strip():
        phone = preferences.normalize_phone(data.phone)
        if phone is None:
            raise SettingsError(
                "phone", _l("Số điện thoại không hợp lệ (số di động Việt Nam, ví dụ 0912 345 678).")
            )
    if (data.quiet_start is None) != (data.quiet_end is None):
        raise SettingsError(
            "quiet_end", _l("Nhập cả giờ bắt đầu và giờ kết thúc, hoặc bỏ trống cả hai.")
        )
    row = db.session.scalar(
        sa.select(NotificationSettings).where(NotificationSettings.user_id == actor.user_id)
    )
    old = None
    if row is None:
        row = NotificationSettings(user_id=actor.user_id)
        db.session.add(row)
    else:
        old = _snapshot(row)
    row.channels = sorted(set(data.channels))
    row.muted_kinds = sorted(set(data.muted_kinds))
    row.quiet_start, row.quiet_end = data.quiet_start, data.quiet_end
    row.wants_digest = data.wants_digest
    row.updated_at = utcnow()
    db.session.flush()
    changed = [k for k, v in _snapshot(row).items() if old is None or old[k] != v]
    if old is None or (preferences.contact(row, "email") or "") != email:
        preferences.set_contact(row, "email", email)
        changed.append("email")
    if old is None or (preferences.contact(row, "phone") or None) != phone:
        preferences.set_contact(row, "phone", phone)
        changed.append("phone")
    if changed:
        audit.record(
            actor,
            "notification.settings_changed",
            row,
            details={"changed_fields": sorted(set(changed))},
        )
    return row


def _snapshot(row: NotificationSettings) -> dict:
    return {
        "channels": list(row.channels or []),
        "muted_kinds": list(row.muted_kinds or []),
        "quiet_hours": (row.quiet_start, row.quiet_end),
        "wants_digest": bool(row.wants_digest),
    }


def retry_delivery(actor: Actor, delivery: Delivery) -> Delivery:
    """An admin puts a dead delivery back in the outbox (same idempotency key; audited)."""
    if not actor.has_role(Role.ADMIN):
        raise PermissionDenied
    if delivery.status != DeliveryStatus.DEAD:
        raise SettingsError("delivery", _l("Chỉ gửi lại được thông báo đã ngừng gửi."))
    retry_dead(delivery)
    db.session.flush()
    audit.record(
        actor,
        "notification.delivery_retried",
        delivery,
        object_ref=str(delivery.id),
        details={"count": 1},
    )
    jobs.enqueue("app.notifications.delivery:deliver_due", job_id="notifications-deliver")
    return delivery
