"""Writing notifications: the in-app row and its outbox deliveries, in the caller's transaction.

Services of other modules call `notify(...)` inside the action they perform (never in a route),
so the notification commits or rolls back with the referral, the case or the follow-up that
caused it. Nothing is sent here: after the commit the worker is asked to deliver (app/jobs), and
its periodic run finds anything that request missed.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from flask import current_app

from app import jobs
from app.db import utcnow
from app.extensions import db
from app.notifications import preferences
from app.notifications.kinds import Kind
from app.notifications.models import Channel, Delivery, Notification
from app.orgs.models import User
from app.permissions import Actor

DELIVER_JOB = "app.notifications.delivery:deliver_due"


def enabled_channels() -> frozenset[str]:
    """Outside channels this deployment has configured (SMTP host, SMS gateway, Zalo ZNS)."""
    cfg = current_app.config
    found = set()
    if cfg.get("NOTIFY_SMTP_HOST"):
        found.add(Channel.EMAIL)
    if cfg.get("NOTIFY_SMS_URL"):
        found.add(Channel.SMS)
    if cfg.get("NOTIFY_ZALO_URL") and cfg.get("NOTIFY_ZALO_TOKEN"):
        found.add(Channel.ZALO)
    return frozenset(found)


def notify(
    recipients: Iterable[User | int],
    kind: Kind,
    *,
    link: str,
    actor: Actor | None = None,
    object_type: str | None = None,
    object_id: int | None = None,
    params: dict | None = None,
    dedupe: str | None = None,
) -> list[Notification]:
    """Write `kind` for each enabled recipient except the actor herself; returns the rows.

    `dedupe`, when given, makes it once per recipient ever (reminders): the key is
    "<dedupe>:<user id>", unique in the table."""
    users = _recipients(recipients, actor)
    if not users:
        return []
    keys = {u.id: f"{dedupe}:{u.id}" for u in users} if dedupe else {}
    if keys:
        seen = set(
            db.session.scalars(
                sa.select(Notification.dedupe_key).where(
                    Notification.dedupe_key.in_(list(keys.values()))
                )
            )
        )
        users = [u for u in users if keys[u.id] not in seen]
    rows = preferences.settings_rows(u.id for u in users)
    channels = enabled_channels()
    now = utcnow()
    written = []
    for user in users:
        note = Notification(
            user_id=user.id,
            kind=str(kind),
            object_type=object_type,
            object_id=object_id,
            link=link,
            params=params or {},
            created_at=now,
            dedupe_key=keys.get(user.id),
        )
        db.session.add(note)
        written.append(note)
        settings = preferences.effective(rows.get(user.id), user.id, user.role)
        if settings.wants_digest or str(kind) in settings.muted_kinds:
            continue  # in the inbox only (and in tomorrow's digest)
        for channel in settings.channels:
            if channel in channels and settings.has_address(channel):
                note.deliveries.append(_delivery(channel, settings, now))
    db.session.flush()
    if any(n.deliveries for n in written):
        jobs.enqueue(DELIVER_JOB, job_id="notifications-deliver")
    return written


def _delivery(channel: str, settings: preferences.Effective, now) -> Delivery:
    return Delivery(
        channel=channel,
        idempotency_key=secrets.token_hex(16),
        next_attempt_at=preferences.not_before(settings, now),
        created_at=now,
    )


def _recipients(recipients: Iterable[User | int], actor: Actor | None) -> list[User]:
    users, ids = {}, []
    for r in recipients:
        if r is None:
            continue
        if isinstance(r, User):
            users[r.id] = r
        else:
            ids.append(r)
    if ids:
        for user in db.session.scalars(sa.select(User).where(User.id.in_(ids))):
            users[user.id] = user
    skip = actor.user_id if actor else None
    return [u for uid, u in sorted(users.items()) if uid != skip and u.is_enabled]


def digest_delivery(note: Notification, settings: preferences.Effective, now) -> None:
    """The morning digest goes out on every channel the user chose, quiet hours permitting."""
    for channel in settings.channels:
        if channel in enabled_channels() and settings.has_address(channel):
            note.deliveries.append(_delivery(channel, settings, now))
