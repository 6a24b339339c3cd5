"""Periodic jobs of the notifications module (app/jobs): delivery sweep and morning digest."""

from __future__ import annotations

from datetime import datetime, time

import sqlalchemy as sa

from app import jobs
from app.db import utcnow
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.notifications import preferences
from app.notifications.kinds import Kind
from app.notifications.models import Notification, NotificationSettings
from app.notifications.outbox import digest_delivery
from app.orgs.models import User

DIGEST_AT = time(7, 30)


def send_digests(now: datetime | None = None) -> int:
    """From 07:30 local, once a day, each user who asked for a digest and has unread
    notifications gets one digest (its own notification, delivered on her channels)."""
    now = now or utcnow()
    local = now.astimezone(LOCAL_TZ)
    if local.time() < DIGEST_AT:
        return 0
    today = local.date().isoformat()
    wanting = db.session.scalars(
        sa.select(NotificationSettings)
        .join(User, User.id == NotificationSettings.user_id)
        .where(
            NotificationSettings.wants_digest.is_(True),
            User.is_enabled.is_(True),
            sa.or_(
                NotificationSettings.last_digest_on.is_(None),
                NotificationSettings.last_digest_on < today,
            ),
        )
    ).all()
    written = 0
    for row in wanting:
        row.last_digest_on = today
        unread = db.session.scalar(
            sa.select(sa.func.count()).where(
                Notification.user_id == row.user_id,
                Notification.read_at.is_(None),
                Notification.kind != Kind.DIGEST,
            )
        )
        if not unread:
            continue
        note = Notification(
            user_id=row.user_id,
            kind=str(Kind.DIGEST),
            link="/notifications",
            params={"count": int(unread)},
            created_at=now,
            dedupe_key=f"digest:{today}:{row.user_id}",
        )
        db.session.add(note)
        digest_delivery(note, preferences.effective(row, row.user_id, row.user.role), now)
        written += 1
    db.session.flush()
    return written


jobs.every("notifications-deliver", "app.notifications.delivery:deliver_due", minutes=1)
jobs.every("notifications-digest", "app.notifications.tasks:send_digests", minutes=10)
