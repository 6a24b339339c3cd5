"""Outreach domain actions: log, correct, delete and import entries. Never commit here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from app.audit import services as audit
from app.db import utcnow
from app.entries import InvalidEntry  # noqa: F401 (services.X)
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.orgs.models import OrgUnit
from app.outreach import permissions, queries
from app.outreach.models import OutreachActivity
from app.outreach.vocab import (
    AUDIENCES,
    FORMS,
    MAX_REACHED,
    NOTES_MAX,
    PARTNERS_MAX,
    PLACES,
    TOPICS,
)
from app.permissions import Actor, PermissionDenied

# Volunteers log what happened recently; older events go through a caseworker.
BACKDATE_LIMIT = timedelta(days=365)
FIELDS = ("org_unit_id", "held_on", "form", "place", "partners_involved", "notes")


def now() -> datetime:
    """The clock of this module (tests freeze it)."""
    return utcnow()


def today() -> date:
    return now().astimezone(LOCAL_TZ).date()




class KeyConflict(Exception):
    """The idempotency key belongs to somebody else's entry."""


@dataclass
class Entry:
    """What a volunteer reports about one event (already parsed, not yet checked)."""

    org_unit_id: int | None
    held_on: date | None
    form: str | None
    place: str | None
    topics: list[str] = field(default_factory=list)
    reached: dict[str, int | None] = field(default_factory=dict)
    partners_involved: str = ""
    notes: str = ""

    def values(self) -> dict:
        data = {name: getattr(self, name) for name in FIELDS}
        data["partners_involved"] = (self.partners_involved or "").strip()
        data["notes"] = (self.notes or "").strip()
        for code in AUDIENCES:
            data[f"reached_{code}"] = self.reached.get(code) or 0
        return data


def check_entry(actor: Actor, entry: Entry) -> dict[str, str]:
    """Every rule an entry must meet, whichever way it arrives (page, API, Excel)."""
    errors: dict[str, str] = {}
    if entry.held_on is None:
        errors["held_on"] = _("Hãy nhập ngày tổ chức hoạt động.")
    elif entry.held_on > today():
        errors["held_on"] = _("Ngày tổ chức không được ở tương lai.")
    elif permissions.has_backdating_limit(actor) and entry.held_on < today() - BACKDATE_LIMIT:
        errors["held_on"] = _("Chỉ ghi được hoạt động trong vòng một năm trở lại.")
    if entry.form not in FORMS:
        errors["form"] = _("Hãy chọn một hình thức có trong danh sách.")
    if entry.place not in PLACES:
        errors["place"] = _("Hãy chọn một địa điểm có trong danh sách.")
    if not entry.topics:
        errors["topics"] = _("Hãy chọn ít nhất một chủ đề.")
    elif any(t not in TOPICS for t in entry.topics):
        errors["topics"] = _("Có chủ đề không nằm trong danh sách.")
    total = 0
    for code in AUDIENCES:
        value = entry.reached.get(code)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            errors[f"reached_{code}"] = _("Số người phải là số nguyên không âm.")
        elif value > MAX_REACHED:
            errors[f"reached_{code}"] = _(
                "Số người quá lớn cho một hoạt động (tối đa %(max)s).", max=f"{MAX_REACHED:,}"
            )
        else:
            total += value
    if total == 0 and not any(k.startswith("reached_") for k in errors):
        errors["reached"] = _("Hãy nhập số người được tiếp cận cho ít nhất một nhóm.")
    if len((entry.partners_involved or "").strip()) > PARTNERS_MAX:
        errors["partners_involved"] = _("Tối đa %(n)d ký tự.", n=PARTNERS_MAX)
    if len((entry.notes or "").strip()) > NOTES_MAX:
        errors["notes"] = _("Tối đa %(n)d ký tự.", n=NOTES_MAX)
    return errors


def _check_unit(actor: Actor, org_unit_id: int | None) -> OrgUnit:
    unit = db.session.get(OrgUnit, org_unit_id) if org_unit_id is not None else None
    if unit is None or unit.is_retired or unit.level not in queries.COMMUNE_LEVELS:
        raise InvalidEntry({"org_unit_id": _("Hãy chọn một xã/phường.")})
    if not actor.is_system and not actor.covers_path(unit.path):
        raise PermissionDenied
    return unit


def create_activity(
    actor: Actor, entry: Entry, idempotency_key: str, *, via: str = "web"
) -> tuple[OutreachActivity, bool]:
    """Log one event; a repeated idempotency key returns the first entry instead of a second."""
    if not actor.is_system and not permissions.can_log(actor):
        raise PermissionDenied
    existing = queries.find_by_key(idempotency_key)
    if existing is not None:
        return _repeat(actor, existing), False
    errors = check_entry(actor, entry)
    if errors:
        raise InvalidEntry(errors)
    unit = _check_unit(actor, entry.org_unit_id)
    stamp = now()
    activity = OutreachActivity(
        idempotency_key=idempotency_key,
        created_by_id=actor.user_id,
        created_at=stamp,
        updated_at=stamp,
        **entry.values(),
    )
    activity.topics = entry.topics
    try:
        with db.session.begin_nested():
            db.session.add(activity)
            db.session.flush()
    except IntegrityError:
        # Two deliveries of the same entry raced: the other one won; answer with it.
        existing = queries.find_by_key(idempotency_key)
        if existing is None:
            raise
        return _repeat(actor, existing), False
    audit.record(actor, "outreach.created", activity, details={"via": via, "org_unit": unit.code})
    return activity, True


def _repeat(actor: Actor, existing: OutreachActivity) -> OutreachActivity:
    if existing.created_by_id != actor.user_id:
        raise KeyConflict
    return existing


def update_activity(actor: Actor, activity: OutreachActivity, entry: Entry) -> list[str]:
    """Correct an entry: volunteers their own for 7 days, caseworkers any in their subtree."""
    if not permissions.can_change(actor, activity, queries.unit_path(activity), now()):
        raise PermissionDenied
    errors = check_entry(actor, entry)
    if errors:
        raise InvalidEntry(errors)
    unit = _check_unit(actor, entry.org_unit_id)
    changed = sorted(n for n, value in entry.values().items() if getattr(activity, n) != value)
    if sorted(set(entry.topics)) != activity.topics:
        changed.append("topics")
    if not changed:
        return []
    for name, value in entry.values().items():
        setattr(activity, name, value)
    activity.topics = entry.topics
    activity.updated_at = now()
    db.session.flush()
    audit.record(
        actor,
        "outreach.updated",
        activity,
        details={"changed_fields": sorted(changed), "org_unit": unit.code},
    )
    return changed


def delete_activity(actor: Actor, activity: OutreachActivity) -> None:
    """Soft-delete: the entry leaves the figures; the row and its audit trail remain."""
    if not permissions.can_change(actor, activity, queries.unit_path(activity), now()):
        raise PermissionDenied
    activity.deleted_at = now()
    activity.updated_at = activity.deleted_at
    db.session.flush()
    audit.record(actor, "outreach.deleted", activity)


@dataclass
class ImportRow:
    """One spreadsheet row, parsed: `commune_code` names a commune of the import's unit."""

    row: int
    commune_code: str
    entry: Entry
    errors: list[str] = field(default_factory=list)
