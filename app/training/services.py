"""Training domain actions: record, correct, delete and import sessions (staff in post:
staffing.py). Each checks its rule, flushes and writes its audit event; the caller commits once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _

from app.audit import services as audit
from app.db import utcnow
from app.entries import ImportRejected, InvalidEntry  # noqa: F401 (services.X)
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, PermissionDenied
from app.training import permissions, queries
from app.training.models import TrainingAttendee, TrainingHeadcount, TrainingSession
from app.training.vocab import (
    FORMATS,
    MAX_HEADCOUNT,
    ORGANIZER_MAX,
    TOPIC_MAX,
)

FIELDS = ("org_unit_id", "held_on", "topic", "organizer", "format")


def now() -> datetime:
    """The clock of this module (tests freeze it)."""
    return utcnow()


def today() -> date:
    return now().astimezone(LOCAL_TZ).date()






@dataclass
class Headcount:
    org_unit_id: int | None
    officers: int | None = None
    volunteers: int | None = None


@dataclass
class Entry:
    """One session as the page, or the import, describes it (parsed, not yet checked)."""

    org_unit_id: int | None
    held_on: date | None
    topic: str
    organizer: str
    format: str | None
    attendee_ids: list[int] = field(default_factory=list)
    headcounts: list[Headcount] = field(default_factory=list)

    def values(self) -> dict:
        return {
            "org_unit_id": self.org_unit_id,
            "held_on": self.held_on,
            "topic": " ".join((self.topic or "").split()),
            "organizer": " ".join((self.organizer or "").split()),
            "format": self.format,
        }


def _count_error(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return _("Số người phải là số nguyên không âm.")
    if value > MAX_HEADCOUNT:
        return _(
            "Số người quá lớn cho một lớp tập huấn (tối đa %(max)s).", max=f"{MAX_HEADCOUNT:,}"
        )
    return None


def check_entry(actor: Actor, entry: Entry) -> dict[str, str]:
    """Every rule a session must meet, whichever way it arrives (page or Excel)."""
    errors: dict[str, str] = {}
    values = entry.values()
    unit = db.session.get(OrgUnit, entry.org_unit_id) if entry.org_unit_id else None
    if unit is None or unit.is_retired:
        errors["org_unit_id"] = _("Hãy chọn đơn vị tổ chức tập huấn.")
    elif not actor.is_system and not actor.covers_path(unit.path):
        raise PermissionDenied
    if entry.held_on is None:
        errors["held_on"] = _("Hãy nhập ngày tập huấn.")
    elif entry.held_on > today():
        errors["held_on"] = _("Ngày tập huấn không được ở tương lai.")
    if not values["topic"]:
        errors["topic"] = _("Hãy nhập nội dung tập huấn.")
    elif len(values["topic"]) > TOPIC_MAX:
        errors["topic"] = _("Tối đa %(n)d ký tự.", n=TOPIC_MAX)
    if len(values["organizer"]) > ORGANIZER_MAX:
        errors["organizer"] = _("Tối đa %(n)d ký tự.", n=ORGANIZER_MAX)
    if entry.format not in FORMATS:
        errors["format"] = _("Hãy chọn một hình thức có trong danh sách.")
    if unit is not None and "org_unit_id" not in errors:
        errors.update(_check_attendance(entry, unit))
    return errors


def _check_attendance(entry: Entry, unit: OrgUnit) -> dict[str, str]:
    """Named attendees and counted units come from the session unit's subtree."""
    errors: dict[str, str] = {}
    ids = set(entry.attendee_ids)
    if ids:
        found = set(
            db.session.execute(
                queries.staff_under(unit.path).with_only_columns(User.id).where(User.id.in_(ids))
            ).scalars()
        )
        if found != ids:
            errors["attendee_ids"] = _("Có người tham dự không thuộc đơn vị tổ chức hoặc cấp dưới.")
    people = len(ids)
    seen: set[int] = set()
    for line in entry.headcounts:
        problem = _count_error(line.officers) or _count_error(line.volunteers)
        if problem:
            errors["headcounts"] = problem
            continue
        if not (line.officers or line.volunteers):
            continue
        line_unit = db.session.get(OrgUnit, line.org_unit_id) if line.org_unit_id else None
        if line_unit is None or not line_unit.path.startswith(unit.path):
            errors["headcounts"] = _("Đơn vị tham dự phải là đơn vị tổ chức hoặc cấp dưới.")
        elif line_unit.id in seen:
            errors["headcounts"] = _("Mỗi đơn vị chỉ ghi một dòng số người tham dự.")
        seen.add(line_unit.id if line_unit else 0)
        people += (line.officers or 0) + (line.volunteers or 0)
    if people == 0 and not errors:
        errors["attendee_ids"] = _("Hãy ghi ít nhất một người tham dự.")
    return errors


def _apply_attendance(session: TrainingSession, entry: Entry) -> list[str]:
    changed = []
    wanted = set(entry.attendee_ids)
    if {a.user_id for a in session.attendees} != wanted:
        session.attendees = [a for a in session.attendees if a.user_id in wanted]
        have = {a.user_id for a in session.attendees}
        session.attendees += [TrainingAttendee(user_id=uid) for uid in sorted(wanted - have)]
        changed.append("attendees")
    counts = {
        line.org_unit_id: (line.officers or 0, line.volunteers or 0)
        for line in entry.headcounts
        if line.officers or line.volunteers
    }
    if {h.org_unit_id: (h.officers, h.volunteers) for h in session.headcounts} != counts:
        session.headcounts = [h for h in session.headcounts if h.org_unit_id in counts]
        by_unit = {h.org_unit_id: h for h in session.headcounts}
        for uid, (officers, volunteers) in counts.items():
            row = by_unit.get(uid)
            if row is None:
                row = TrainingHeadcount(org_unit_id=uid)
                session.headcounts.append(row)
            row.officers, row.volunteers = officers, volunteers
        changed.append("headcounts")
    return changed


def _require(actor: Actor) -> None:
    if not actor.is_system and not permissions.can_record(actor):
        raise PermissionDenied


def create_session(
    actor: Actor, entry: Entry, *, via: str = "web", import_key: str | None = None
) -> TrainingSession:
    """Record a session of the actor's subtree with who attended it."""
    _require(actor)
    errors = check_entry(actor, entry)
    if errors:
        raise InvalidEntry(errors)
    stamp = now()
    session = TrainingSession(
        created_by_id=actor.user_id,
        created_at=stamp,
        updated_at=stamp,
        import_key=import_key,
        **entry.values(),
    )
    db.session.add(session)
    _apply_attendance(session, entry)
    db.session.flush()
    audit.record(
        actor,
        "training.created",
        session,
        org_unit_id=session.org_unit_id,
        details={"via": via, "org_unit": session.org_unit.code},
    )
    return session


def update_session(actor: Actor, session: TrainingSession, entry: Entry) -> list[str]:
    """Correct a session of the actor's subtree (moving it stays in scope)."""
    if not permissions.can_change(actor, session.org_unit.path) or session.deleted_at:
        raise PermissionDenied
    errors = check_entry(actor, entry)
    if errors:
        raise InvalidEntry(errors)
    changed = [n for n, value in entry.values().items() if getattr(session, n) != value]
    for name in changed:
        setattr(session, name, entry.values()[name])
    changed += _apply_attendance(session, entry)
    if not changed:
        return []
    session.updated_at = now()
    db.session.flush()
    db.session.refresh(session, ["org_unit"])
    audit.record(
        actor,
        "training.updated",
        session,
        org_unit_id=session.org_unit_id,
        details={"changed_fields": sorted(changed), "org_unit": session.org_unit.code},
    )
    return changed


def delete_session(actor: Actor, session: TrainingSession) -> None:
    """Soft-delete: the session leaves the figures; the row and its audit trail remain."""
    if not permissions.can_change(actor, session.org_unit.path) or session.deleted_at:
        raise PermissionDenied
    session.deleted_at = session.updated_at = now()
    db.session.flush()
    audit.record(
        actor,
        "training.deleted",
        session,
        org_unit_id=session.org_unit_id,
        details={"org_unit": session.org_unit.code},
    )


# ------------------------------------------------------------------------------ import


@dataclass
class ImportedSession:
    """The rows of one sheet that describe one session (rows: their sheet row numbers)."""

    rows: list[int]
    unit_code: str
    entry: Entry
    attendee_names: list[str] = field(default_factory=list)
    unit_codes: list[tuple[int, str]] = field(default_factory=list)  # (row, code) per headcount
    errors: list[tuple[int, str]] = field(default_factory=list)


def _resolve(
    root: OrgUnit, units: dict[str, OrgUnit], item: ImportedSession
) -> list[tuple[int, str]]:
    """Turn the codes and usernames of an imported session into ids (`units`: the root's
    subtree by code); errors by row."""
    first = item.rows[0]
    errors = []
    unit = units.get(item.unit_code)
    if unit is None:
        errors.append((first, _("Mã đơn vị tổ chức không thuộc đơn vị của bạn.")))
    item.entry.org_unit_id = unit.id if unit else None
    for (row, code), line in zip(item.unit_codes, item.entry.headcounts, strict=True):
        counted = units.get(code)
        if counted is None and code:
            errors.append((row, _("Mã đơn vị tham dự không thuộc đơn vị của bạn.")))
        line.org_unit_id = counted.id if counted else None
    if item.attendee_names:
        found = {
            u.username: u.id
            for u in db.session.execute(
                queries.staff_under(root.path).where(User.username.in_(item.attendee_names))
            ).scalars()
        }
        unknown = [n for n in item.attendee_names if n not in found]
        if unknown:
            errors.append(
                (first, _("Tài khoản không có trong đơn vị: %(names)s", names=", ".join(unknown)))
            )
        item.entry.attendee_ids = sorted(set(found.values()))
    return errors


@dataclass
class ImportResult:
    sessions: int
    created: int
    already: int


def import_sessions(
    actor: Actor, root: OrgUnit, items: list[ImportedSession], file_digest: str
) -> ImportResult:
    """All or nothing: every session is checked first; one wrong row and nothing is imported."""
    _require(actor)
    if not actor.is_system and not actor.covers_path(root.path):
        raise PermissionDenied
    errors = [e for item in items for e in item.errors]
    if not items:
        errors.append((0, _("Tệp không có dòng dữ liệu nào.")))
    units = {u.code: u for u in db.session.execute(queries.units_under(root.path)).scalars()}
    for item in items:
        errors += _resolve(root, units, item)
        if item.entry.org_unit_id is not None:
            errors += [(item.rows[0], m) for m in check_entry(actor, item.entry).values()]
    if errors:
        raise ImportRejected(sorted(set(errors)))
    created = 0
    for item in items:
        # The key binds the session to this file: importing the same file twice adds nothing.
        key = f"xlsx-{file_digest[:40]}-{item.rows[0]}"
        if queries.find_by_import_key(key) is None:
            create_session(actor, item.entry, via="import", import_key=key)
            created += 1
    audit.record(
        actor,
        "training.imported",
        object_type="org_unit",
        object_ref=root.code,
        org_unit_id=root.id,
        details={"rows": sum(len(i.rows) for i in items), "count": created, "via": "web"},
    )
    return ImportResult(sessions=len(items), created=created, already=len(items) - created)
