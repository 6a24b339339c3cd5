"""The outbox worker: send pending deliveries, with retries, backoff and a dead-letter list.

A batch is claimed in a short transaction (the rows are the worker's until `claimed_until`),
sent outside any transaction, then marked. A worker killed after sending and before marking
leaves its claim to expire: the next run sends again with the same idempotency key, which the
receiver (SMTP Message-ID, the gateway's Idempotency-Key, ZNS tracking_id) recognises. So a
message is never lost, and is re-sent at most once per crash, never as a new message.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from app.db import utcnow
from app.extensions import db
from app.notifications import preferences
from app.notifications.channels import (
    OutgoingMessage,
    PermanentFailure,
    TemporaryFailure,
    open_sender,
)
from app.notifications.kinds import outside_text
from app.notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationSettings,
)

log = logging.getLogger(__name__)

# Minutes to wait after the 1st, 2nd, ... failure; after the last, the delivery is dead.
BACKOFF_MINUTES = (1, 5, 15, 60, 180, 360)


def deliver_due(limit: int | None = None, now: datetime | None = None) -> int:
    """Send every due pending delivery (at most `limit`); returns how many were sent."""
    cfg = current_app.config
    batch_size = int(cfg.get("NOTIFY_BATCH", 200))
    limit = limit or int(cfg.get("NOTIFY_DRAIN_LIMIT", 100_000))
    sent = 0
    handled = 0
    while handled < limit:
        at = now or utcnow()
        claimed = _claim(min(batch_size, limit - handled), at)
        if not claimed:
            break
        handled += len(claimed)
        sent += _send_batch(claimed, at)
    return sent


def _claim(size: int, now: datetime) -> list[int]:
    """Take up to `size` due rows for this worker (one short transaction)."""
    hold = timedelta(seconds=int(current_app.config.get("NOTIFY_CLAIM_SECONDS", 300)))
    due = (
        sa.select(Delivery.id)
        .where(
            Delivery.status == DeliveryStatus.PENDING,
            Delivery.next_attempt_at <= now,
            sa.or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(size)
    )
    if db.engine.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    ids = list(db.session.scalars(due))
    if ids:
        db.session.execute(
            sa.update(Delivery).where(Delivery.id.in_(ids)).values(claimed_until=now + hold)
        )
    db.session.commit()
    return ids


@dataclass(frozen=True)
class _Job:
    """What the worker needs of one delivery, read before any message goes out."""

    delivery_id: int
    channel: str
    user_id: int
    attempts: int
    message: OutgoingMessage | None  # None: nothing to send (read already, or no address)


class _NotTried(TemporaryFailure):
    """The channel failed earlier in this batch: release the row without counting an attempt."""


def _send_batch(ids: list[int], now: datetime) -> int:
    jobs = _prepare(ids)
    db.session.commit()  # no transaction (nor SQLite's write lock) held while we talk outside
    results: list[tuple[_Job, Exception | None]] = []
    cfg = current_app.config
    for channel in sorted({j.channel for j in jobs}):
        down: Exception | None = None
        with open_sender(channel, cfg) as send:
            for job in (j for j in jobs if j.channel == channel):
                if job.message is None:
                    results.append((job, None))
                    continue
                if down is not None:
                    results.append((job, _NotTried(str(down))))
                    continue
                try:
                    send(job.message)
                    results.append((job, None))
                except TemporaryFailure as exc:
                    down = exc  # down or slow: do not wait out a timeout per message
                    results.append((job, exc))
                except PermanentFailure as exc:
                    results.append((job, exc))
    return _mark(results, now)


def _prepare(ids: list[int]) -> list[_Job]:
    deliveries = list(
        db.session.scalars(
            sa.select(Delivery)
            .where(Delivery.id.in_(ids))
            .options(joinedload(Delivery.notification))
            .order_by(Delivery.channel, Delivery.id)
        )
    )
    notes = [d.notification for d in deliveries]
    rows = preferences.settings_rows(n.user_id for n in notes)
    counts = _unread_counts(notes)
    base = current_app.config.get("NOTIFY_PUBLIC_URL", "http://127.0.0.1:5000").rstrip("/")
    jobs = []
    for d in deliveries:
        note = d.notification
        row = rows.get(note.user_id)
        field = "email" if d.channel == Channel.EMAIL else "phone"
        address = preferences.contact(row, field) if row is not None else None
        message = None
        if note.read_at is None and address:
            count = counts.get((note.user_id, note.kind), 1)
            message = OutgoingMessage(
                to=address,
                text=outside_text(note.kind, count),
                link=f"{base}/notifications/{note.id}/open",
                idempotency_key=d.idempotency_key,
                count=count,
            )
        jobs.append(_Job(d.id, d.channel, note.user_id, d.attempts, message))
    return jobs


def _unread_counts(notes: list[Notification]) -> Counter:
    users = {n.user_id for n in notes}
    kinds = {n.kind for n in notes}
    if not users:
        return Counter()
    rows = db.session.execute(
        sa.select(Notification.user_id, Notification.kind, sa.func.count())
        .where(
            Notification.user_id.in_(users),
            Notification.kind.in_(kinds),
            Notification.read_at.is_(None),
        )
        .group_by(Notification.user_id, Notification.kind)
    )
    return Counter({(u, k): c for u, k, c in rows})


def _mark(results: list[tuple[_Job, Exception | None]], now: datetime) -> int:
    """Record each outcome (one transaction for the batch); returns how many were sent."""
    sent_ids = [j.delivery_id for j, f in results if f is None and j.message is not None]
    skipped_ids = [j.delivery_id for j, f in results if f is None and j.message is None]
    if sent_ids:
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(sent_ids))
            .values(
                status=DeliveryStatus.SENT,
                sent_at=now,
                attempts=Delivery.attempts + 1,
                claimed_until=None,
                last_error=None,
            )
        )
    if skipped_ids:
        db.session.execute(
            sa.update(Delivery)
            .where(Delivery.id.in_(skipped_ids))
            .values(status=DeliveryStatus.SKIPPED, claimed_until=None)
        )
    for job, failure in results:
        if failure is not None:
            _mark_failure(job, failure, now)
    db.session.commit()
    return len(sent_ids)


def _mark_failure(job: _Job, failure: Exception, now: datetime) -> None:
    values: dict = {"claimed_until": None, "last_error": str(failure)[:200]}
    if isinstance(failure, _NotTried):
        values["next_attempt_at"] = now + timedelta(minutes=BACKOFF_MINUTES[0])
    else:
        attempts = job.attempts + 1
        values["attempts"] = attempts
        if isinstance(failure, PermanentFailure) or attempts >= len(BACKOFF_MINUTES):
            values["status"] = DeliveryStatus.DEAD
            if getattr(failure, "bad_address", False):
                _report_bad_address(job.user_id, job.channel)
        else:
            values["next_attempt_at"] = now + timedelta(minutes=BACKOFF_MINUTES[attempts - 1])
    db.session.execute(sa.update(Delivery).where(Delivery.id == job.delivery_id).values(values))
    log.info("delivery %s failed (%s)", job.delivery_id, values["last_error"])


def _report_bad_address(user_id: int, channel: str) -> None:
    """Shown on the user's settings page until she changes the address."""
    column = "email_problem" if channel == Channel.EMAIL else "phone_problem"
    db.session.execute(
        sa.update(NotificationSettings)
        .where(NotificationSettings.user_id == user_id)
        .values({column: BAD_ADDRESS})
    )


BAD_ADDRESS = "refused"


def retry_dead(delivery: Delivery) -> Delivery:
    """An admin sends a dead delivery again: a fresh start with the same idempotency key."""
    delivery.status = DeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = utcnow()
    delivery.claimed_until = None
    return delivery
