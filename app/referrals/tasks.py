"""Periodic jobs of the referrals module (app/jobs): expiry replaces the cron advice."""

from __future__ import annotations

from flask import current_app

from app import jobs
from app.permissions import Actor
from app.referrals import notices, services
from app.referrals.status import local_today


def expire_referrals() -> int:
    """Cancel sent referrals left unanswered past respond_by; idempotent, so hourly is safe."""
    grace = int(current_app.config.get("REFERRAL_EXPIRY_GRACE_DAYS", 0))
    expired = services.expire_unanswered(Actor.system("referrals-expire"), local_today(), grace)
    return len(expired)


def remind_referrals() -> int:
    """Due tomorrow and overdue reminders, each written once (dedupe keys)."""
    return notices.remind(local_today())


# Reminders first in each hour's run: an overdue referral is announced before it expires.
jobs.every("referrals-remind", "app.referrals.tasks:remind_referrals", minutes=30)
jobs.every("referrals-expire", "app.referrals.tasks:expire_referrals", hours=1)
