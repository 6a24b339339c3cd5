"""Each user's notification settings: defaults per role, quiet hours, contact addresses.

A user without a settings row gets her role's defaults; the row is written the first time she
saves the settings page. Quiet hours (21:00–07:00 local by default) hold outside messages until
they end; the in-app inbox is never held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta

import sqlalchemy as sa

from app.crypto import account_secrets
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.notifications.models import Channel, NotificationSettings
from app.permissions import Role

DEFAULT_QUIET = (time(21, 0), time(7, 0))
# Partners answer referrals from an office inbox; caseworkers get a morning digest besides;
# volunteers often have only a phone, so SMS when they gave a number.
ROLE_DEFAULTS = {
    Role.PARTNER: ((Channel.EMAIL,), False),
    Role.CASEWORKER: ((Channel.EMAIL,), False),
    Role.VOLUNTEER: ((Channel.SMS,), False),
}

EMAIL_RE = re.compile(
    r"^[^@\s<>\"',;]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)+$"
)


@dataclass(frozen=True)
class Effective:
    """The settings that apply to one user now (her row, or her role's defaults). Addresses stay
    sealed here: whether she has one is enough to queue a delivery; the worker opens it."""

    user_id: int
    channels: tuple[str, ...]
    muted_kinds: frozenset[str]
    quiet_start: time | None
    quiet_end: time | None
    wants_digest: bool
    has_email: bool = False
    has_phone: bool = False

    def has_address(self, channel: str) -> bool:
        return self.has_email if channel == Channel.EMAIL else self.has_phone


def defaults_for(user_id: int, role: str | None) -> Effective:
    channels, digest = ROLE_DEFAULTS.get(Role(role) if role else None, ((), False))
    return Effective(
        user_id, tuple(channels), frozenset(), DEFAULT_QUIET[0], DEFAULT_QUIET[1], digest
    )


def effective(row: NotificationSettings | None, user_id: int, role: str | None) -> Effective:
    if row is None:
        return defaults_for(user_id, role)
    return Effective(
        user_id,
        tuple(row.channels or ()),
        frozenset(row.muted_kinds or ()),
        row.quiet_start,
        row.quiet_end,
        row.wants_digest,
        has_email=row.email_enc is not None,
        has_phone=row.phone_enc is not None,
    )


def settings_rows(user_ids) -> dict[int, NotificationSettings]:
    ids = list(set(user_ids))
    if not ids:
        return {}
    rows = db.session.scalars(
        sa.select(NotificationSettings).where(NotificationSettings.user_id.in_(ids))
    )
    return {row.user_id: row for row in rows}


def contact(row: NotificationSettings, name: str) -> str | None:
    blob = getattr(row, f"{name}_enc")
    if blob is None:
        return None
    return account_secrets.unseal("notification_settings", name, row.id, blob)


def set_contact(row: NotificationSettings, name: str, value: str | None) -> None:
    db.session.flush()  # the row id binds the sealed value to this row
    value = (value or "").strip() or None
    sealed = (
        None
        if value is None
        else account_secrets.seal("notification_settings", name, row.id, value)
    )
    setattr(row, f"{name}_enc", sealed)
    setattr(row, f"{name}_problem", None)


def normalize_phone(raw: str) -> str | None:
    """A Vietnamese mobile number in international form (84912345678), or None when it is
    not one."""
    digits = re.sub(r"[\s.\-()]", "", raw or "")
    if digits.startswith("+"):
        digits = digits[1:]
    if digits.startswith("0"):
        digits = "84" + digits[1:]
    if not re.fullmatch(r"84[35789]\d{8}", digits):
        return None
    return digits


def is_valid_email(raw: str) -> bool:
    return bool(EMAIL_RE.match((raw or "").strip())) and len(raw.strip()) <= 254


def in_quiet_hours(settings: Effective, at: datetime) -> bool:
    start, end = settings.quiet_start, settings.quiet_end
    if start is None or end is None or start == end:
        return False
    local = at.astimezone(LOCAL_TZ).time()
    if start < end:
        return start <= local < end
    return local >= start or local < end  # the window crosses midnight


def not_before(settings: Effective, at: datetime) -> datetime:
    """`at`, or the end of the quiet hours it falls in (07:00 local by default)."""
    if not in_quiet_hours(settings, at):
        return at
    local = at.astimezone(LOCAL_TZ)
    end = local.replace(
        hour=settings.quiet_end.hour, minute=settings.quiet_end.minute, second=0, microsecond=0
    )
    if end <= local:
        end += timedelta(days=1)
    return end
