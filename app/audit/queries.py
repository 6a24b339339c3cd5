"""Scoped reads of the audit trail: the viewer, its export, a case's access history, breach reports.

Scope: admins see every event; auditors the events whose org unit is in their subtree (a case's
events sit at the case's unit), with case codes but never what a case holds: no reason, no
details (purposes, categories, outcomes), which stay with admins. Every other role nothing here:
supervisors see staff activity only (app/audit/activity.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.audit.services import untrusted_ref
from app.auth.services import normalize_username
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, Role, in_org_scope, not_found

PER_PAGE = 50
EXPORT_BATCH = 2_000
WITHHELD = "(withheld)"


@dataclass(frozen=True)
class AuditFilters:
    username: str | None = None
    action: str | None = None
    object_ref: str | None = None
    org_unit_code: str | None = None
    since: date | None = None  # local (Vietnam) days, both inclusive
    until: date | None = None

    def query_args(self) -> dict[str, str]:
        """The filters as GET parameters, for the pager and the export link."""
        args = {
            "username": self.username,
            "action": self.action,
            "object_ref": self.object_ref,
            "org_unit": self.org_unit_code,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {k: v for k, v in args.items() if v}


def day_bounds(since: date | None, until: date | None) -> tuple[datetime | None, datetime | None]:
    """Local days -> [start, end) aware datetimes: the users' dates are Vietnamese days."""
    start = datetime.combine(since, time.min, LOCAL_TZ) if since else None
    end = datetime.combine(until + timedelta(days=1), time.min, LOCAL_TZ) if until else None
    return start, end


def _scope(stmt: sa.Select, actor: Actor) -> sa.Select:
    if actor.has_role(Role.ADMIN):
        return stmt
    if actor.has_role(Role.AUDITOR):
        return stmt.where(in_org_scope(AuditEvent.org_unit_id, actor))
    return stmt.where(sa.false())


def _apply(stmt: sa.Select, filters: AuditFilters) -> sa.Select:
    if filters.username:
        stmt = stmt.where(AuditEvent.actor_username == normalize_username(filters.username))
    if filters.action:
        stmt = stmt.where(AuditEvent.action == filters.action)
    if filters.object_ref:
        stmt = stmt.where(AuditEvent.object_ref == filters.object_ref.strip())
    if filters.org_unit_code:
        unit = db.session.execute(
            sa.select(OrgUnit.path).where(OrgUnit.code == filters.org_unit_code.strip())
        ).scalar_one_or_none()
        if unit is None:
            return stmt.where(sa.false())
        subtree = sa.select(OrgUnit.id).where(OrgUnit.path.startswith(unit, autoescape=True))
        stmt = stmt.where(AuditEvent.org_unit_id.in_(subtree))
    start, end = day_bounds(filters.since, filters.until)
    if start is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= start)
    if end is not None:
        stmt = stmt.where(AuditEvent.occurred_at < end)
    return stmt


def _visible(stmt: sa.Select, actor: Actor, filters: AuditFilters) -> sa.Select:
    """`stmt` narrowed to the events `actor` may see that match `filters`."""
    return _apply(_scope(stmt, actor), filters)


def visible_events(actor: Actor, filters: AuditFilters) -> sa.Select:
    """The events `actor` may see that match `filters`, newest first."""
    return _visible(sa.select(AuditEvent).order_by(AuditEvent.seq.desc()), actor, filters)


def search_events(actor: Actor, filters: AuditFilters, page: int):
    """One page (50, newest first) and the org unit code of each event on it."""
    pagination = db.paginate(
        visible_events(actor, filters),
        page=page,
        per_page=PER_PAGE,
        max_per_page=PER_PAGE,
        error_out=False,
    )
    return pagination, unit_codes({e.org_unit_id for e in pagination.items})


def unit_codes(ids) -> dict[int, str]:
    """Org unit id -> code, for the units events sit in."""
    ids = {i for i in ids if i is not None}
    if not ids:
        return {}
    stmt = sa.select(OrgUnit.id, OrgUnit.code).where(OrgUnit.id.in_(ids))
    return dict(db.session.execute(stmt).all())


EXPORT_COLUMNS = (
    "seq",
    "occurred_at",
    "actor_username",
    "actor_role",
    "org_unit",
    "action",
    "object_type",
    "object_ref",
    "outcome",
    "reason",
    "request_id",
    "client_address",
    "details",
)


# An auditor answers "who saw what": the reason and details of an event may say what a case
# holds (a break-glass reason, consent purposes, need categories, referral outcomes).
AUDITOR_EXPORT_COLUMNS = tuple(c for c in EXPORT_COLUMNS if c not in ("reason", "details"))


def export_columns(actor: Actor) -> tuple[str, ...]:
    return EXPORT_COLUMNS if actor.has_role(Role.ADMIN) else AUDITOR_EXPORT_COLUMNS


def count_events(actor: Actor, filters: AuditFilters) -> int:
    stmt = _visible(sa.select(sa.func.count()).select_from(AuditEvent), actor, filters)
    return db.session.execute(stmt).scalar_one()


def export_batches(
    actor: Actor,
    filters: AuditFilters,
    before_seq: int | None = None,
    object_type: str | None = None,
) -> Iterator[list[tuple]]:
    """The filtered view as tuples in `export_columns(actor)` order, newest first, in keyset
    batches (the first column is the seq).

    Each batch ends its read transaction, so a long export never holds SQLite's lock for long.
    """
    # Every column is the event's own but "org_unit", the code of its unit.
    columns = [
        OrgUnit.code if name == "org_unit" else getattr(AuditEvent, name)
        for name in export_columns(actor)
    ]
    joined = sa.select(*columns).outerjoin(OrgUnit, OrgUnit.id == AuditEvent.org_unit_id)
    if object_type is not None:
        joined = joined.where(AuditEvent.object_type == object_type)
    base = _visible(joined, actor, filters).order_by(AuditEvent.seq.desc()).limit(EXPORT_BATCH)
    last_seq = before_seq
    while True:
        stmt = base if last_seq is None else base.where(AuditEvent.seq < last_seq)
        rows = [tuple(r) for r in db.session.execute(stmt).all()]
        db.session.rollback()
        if not rows:
            return
        yield rows
        if len(rows) < EXPORT_BATCH:
            return
        last_seq = rows[-1][0]


def recorded_filters(filters: AuditFilters) -> dict[str, str]:
    """The filters as they may be written into an audit event's details.

    Whatever a user typed is kept only when it is a known username, action or org unit code, or
    looks like a pseudonymous code: a client's name typed into a filter by mistake must not
    end up in the audit trail.
    """
    out: dict[str, str] = {}
    if filters.username:
        name = normalize_username(filters.username)
        known = db.session.execute(sa.select(User.id).where(User.username == name)).first()
        out["username"] = name if known else WITHHELD
    if filters.action:
        out["action"] = filters.action
    if filters.object_ref:
        out["object_ref"] = untrusted_ref(filters.object_ref.strip()) or WITHHELD
    if filters.org_unit_code:
        code = filters.org_unit_code.strip()
        known = db.session.execute(sa.select(OrgUnit.id).where(OrgUnit.code == code)).first()
        out["org_unit"] = code if known else WITHHELD
    if filters.since:
        out["since"] = filters.since.isoformat()
    if filters.until:
        out["until"] = filters.until.isoformat()
    return out


# ------------------------------------------------------------------------------ one case


def case_in_scope(actor: Actor, case_code: str) -> bool:
    """The case was in the actor's subtree: a successful event on it sits there.

    Read from the trail itself, so the answer outlives the case's erasure; a denial does not
    count (whoever typed another subtree's code must not make it visible here).
    """
    stmt = _scope(
        sa.select(AuditEvent.seq).where(
            AuditEvent.object_type == "case",
            AuditEvent.object_ref == case_code,
            AuditEvent.outcome == "success",
            ~AuditEvent.action.startswith("audit."),
        ),
        actor,
    ).limit(1)
    return db.session.execute(stmt).first() is not None


def get_case_code_or_404(actor: Actor, case_code: str) -> str:
    """The code of a case that was in the actor's subtree; anything else is 404, audited."""
    if not case_in_scope(actor, case_code):
        not_found(actor, "case", case_code)
    return case_code


CASE_PAGE_LIMIT = 500


def _case_events(stmt: sa.Select, actor: Actor, case_code: str) -> sa.Select:
    condition = sa.and_(AuditEvent.object_type == "case", AuditEvent.object_ref == case_code)
    return _scope(stmt.where(condition), actor)


def case_events(actor: Actor, case_code: str, limit: int | None = None) -> list[AuditEvent]:
    """The events on the case that the actor may see, newest first (denials included)."""
    stmt = _case_events(sa.select(AuditEvent), actor, case_code).order_by(AuditEvent.seq.desc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return list(db.session.execute(stmt).scalars())


def count_case_events(actor: Actor, case_code: str) -> int:
    stmt = _case_events(sa.select(sa.func.count()).select_from(AuditEvent), actor, case_code)
    return db.session.execute(stmt).scalar_one()


class AccessEntry(NamedTuple):
    occurred_at: datetime
    username: str
    role: str | None
    action: str
    seq: int


def case_access_history(
    case_code: str, limit: int | None = 200, before: int | None = None
) -> list[AccessEntry]:
    """Who viewed or changed the case `case_code`: successful events on it, newest first;
    with `before`, only the events older than that event number (the next page).

    Not scoped: the caller must already have loaded the case through its own scoped query and
    decided that the actor may see its history.
    """
    stmt = (
        sa.select(
            AuditEvent.occurred_at,
            AuditEvent.actor_username,
            AuditEvent.actor_role,
            AuditEvent.action,
            AuditEvent.seq,
        )
        .where(
            AuditEvent.object_type == "case",
            AuditEvent.object_ref == case_code,
            AuditEvent.outcome == "success",
        )
        .order_by(AuditEvent.seq.desc())
    )
    if before is not None:
        stmt = stmt.where(AuditEvent.seq < before)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [AccessEntry(*row) for row in db.session.execute(stmt).all()]


# ------------------------------------------------------------------------------ breach report


class CaseAccess(NamedTuple):
    username: str
    case_code: str
    views: int
    first_viewed_at: datetime
    last_viewed_at: datetime


def accessed_cases(since: date, until: date, username: str | None = None) -> list[CaseAccess]:
    """Per user, the cases they viewed (`case.viewed`) between two local days, both inclusive."""
    start, end = day_bounds(since, until)
    stmt = (
        sa.select(
            AuditEvent.actor_username,
            AuditEvent.object_ref,
            sa.func.count(),
            sa.func.min(AuditEvent.occurred_at),
            sa.func.max(AuditEvent.occurred_at),
        )
        .where(
            AuditEvent.action == "case.viewed",
            AuditEvent.outcome == "success",
            AuditEvent.object_ref.is_not(None),
            AuditEvent.occurred_at >= start,
            AuditEvent.occurred_at < end,
        )
        .group_by(AuditEvent.actor_username, AuditEvent.object_ref)
        .order_by(AuditEvent.actor_username, AuditEvent.object_ref)
    )
    if username:
        stmt = stmt.where(AuditEvent.actor_username == normalize_username(username))
    return [CaseAccess(*row) for row in db.session.execute(stmt).all()]
