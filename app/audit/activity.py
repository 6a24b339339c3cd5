"""Staff activity: what a supervisor may see of the audit trail.

Why not the events themselves: an event on a case carries its code, sits at the case's commune
and names, in its action and details, the needs, consent purposes and referral outcomes. Counted
row by row, the events of a subtree rebuild the very figures the disclosure-control layer
protects (the status cells of a year, for one), and a code seen here could be matched with a
partner's papers. So a supervisor sees who did what *kind* of action, when, and counts by kind
and unit:

* the unit of a row is the member of staff's own unit (users.org_unit_id), never the event's,
  which for a case event is the case's commune;
* the action is folded into a kind ("case work" covers viewing, editing, needs, notes, consent),
  so no count of a kind equals a count of cases, needs, consents or referral outcomes;
* no object reference, reason, details, request id or address leaves this module;
* staff only: partner staff's events would name the partners that referrals went to.

Case-level audit (codes, actions) is for the `auditor` role: see app/audit/queries.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.audit.actions import ACTIONS
from app.audit.models import AuditEvent
from app.audit.queries import AuditFilters, day_bounds, recorded_filters
from app.auth.services import normalize_username
from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, Role

PER_PAGE = 50
EXPORT_BATCH = 2_000

# kind -> (label, action prefixes). Every action belongs to exactly one kind (tested).
KINDS: dict[str, tuple[object, tuple[str, ...]]] = {
    "sign_in": (_l("Đăng nhập, đăng xuất, mật khẩu"), ("auth.",)),
    "case_work": (
        _l("Làm việc với hồ sơ"),
        (
            "case.",
            "need.",
            "note.",
            "consent.",
            "attachment.",
            "breakglass.",
            "followup.",
            "caseplan.",
        ),
    ),
    "referral_work": (_l("Chuyển gửi"), ("referral.",)),
    "outreach": (_l("Hoạt động tuyên truyền"), ("outreach.",)),
    "training": (_l("Tập huấn cán bộ"), ("training.",)),
    "reports": (_l("Xem, tải báo cáo"), ("report.", "plan.")),
    "audit": (_l("Xem nhật ký"), ("audit.",)),
    "administration": (
        _l("Quản trị"),
        ("user.", "org.", "partner.", "api_token.", "key.", "demo.", "notification."),
    ),
    "denied": (_l("Bị từ chối truy cập"), ("access.",)),
}
STAFF_ROLES = tuple(r.value for r in Role if r is not Role.PARTNER)


def kind_of(action: str) -> str:
    for kind, (_label, prefixes) in KINDS.items():
        if action.startswith(prefixes):
            return kind
    raise ValueError(f"audit action without a kind: {action}")


def kind_label(kind: str) -> str:
    return str(KINDS[kind][0])


def actions_of(kind: str) -> list[str]:
    return sorted(a for a in ACTIONS if kind_of(a) == kind)


@dataclass(frozen=True)
class ActivityFilters:
    username: str | None = None
    kind: str | None = None
    org_unit_code: str | None = None  # the staff member's unit, with the units below it
    since: date | None = None
    until: date | None = None

    def query_args(self) -> dict[str, str]:
        args = {
            "username": self.username,
            "kind": self.kind,
            "org_unit": self.org_unit_code,
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
        }
        return {k: v for k, v in args.items() if v}

    def recorded(self) -> dict[str, str]:
        """The filters as written into the supervisor's own `audit.viewed` event."""
        out = recorded_filters(
            AuditFilters(
                username=self.username,
                org_unit_code=self.org_unit_code,
                since=self.since,
                until=self.until,
            )
        )
        if self.kind:
            out["kind"] = self.kind
        return out


class ActivityRow(NamedTuple):
    occurred_at: datetime
    username: str
    role: str | None
    unit: str
    kind: str
    outcome: str


EXPORT_COLUMNS = ("occurred_at", "actor_username", "actor_role", "org_unit", "kind", "outcome")


def _base(actor: Actor, filters: ActivityFilters, *columns) -> sa.Select:
    """Events of staff whose own unit is in the supervisor's subtree, matching `filters`."""
    stmt = (
        sa.select(*columns)
        .select_from(AuditEvent)
        .join(User, User.id == AuditEvent.actor_user_id)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(AuditEvent.actor_role.in_(STAFF_ROLES))
    )
    if not (actor.has_role(Role.SUPERVISOR) and actor.org_path):
        return stmt.where(sa.false())
    stmt = stmt.where(OrgUnit.path.startswith(actor.org_path, autoescape=True))
    if filters.username:
        stmt = stmt.where(AuditEvent.actor_username == normalize_username(filters.username))
    if filters.kind:
        stmt = stmt.where(AuditEvent.action.in_(actions_of(filters.kind)))
    if filters.org_unit_code:
        path = db.session.execute(
            sa.select(OrgUnit.path).where(OrgUnit.code == filters.org_unit_code.strip())
        ).scalar_one_or_none()
        if path is None:
            return stmt.where(sa.false())
        stmt = stmt.where(OrgUnit.path.startswith(path, autoescape=True))
    start, end = day_bounds(filters.since, filters.until)
    if start is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= start)
    if end is not None:
        stmt = stmt.where(AuditEvent.occurred_at < end)
    return stmt


_ROW_COLUMNS = (
    AuditEvent.seq,
    AuditEvent.occurred_at,
    AuditEvent.actor_username,
    AuditEvent.actor_role,
    OrgUnit.code,
    AuditEvent.action,
    AuditEvent.outcome,
)


def _row(seq, occurred_at, username, role, unit, action, outcome) -> ActivityRow:
    return ActivityRow(occurred_at, username, role, unit, kind_of(action), outcome)


@dataclass
class ActivityPage:
    """One page of rows, shaped like Flask-SQLAlchemy's pagination for the `pager` macro."""

    items: list[ActivityRow]
    page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PER_PAGE))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def count_rows(actor: Actor, filters: ActivityFilters) -> int:
    return db.session.execute(_base(actor, filters, sa.func.count())).scalar_one()


def activity_page(actor: Actor, filters: ActivityFilters, page: int) -> ActivityPage:
    """One page of staff activity, newest first."""
    page = max(1, page)
    stmt = (
        _base(actor, filters, *_ROW_COLUMNS)
        .order_by(AuditEvent.seq.desc())
        .limit(PER_PAGE)
        .offset((page - 1) * PER_PAGE)
    )
    rows = [_row(*r) for r in db.session.execute(stmt).all()]
    return ActivityPage(items=rows, page=page, total=count_rows(actor, filters))


def activity_counts(actor: Actor, filters: ActivityFilters) -> list[tuple[str, str, int]]:
    """(unit code, kind, count) of the filtered activity, by unit then kind."""
    stmt = _base(actor, filters, OrgUnit.code, AuditEvent.action, sa.func.count()).group_by(
        OrgUnit.code, AuditEvent.action
    )
    totals: dict[tuple[str, str], int] = {}
    for unit, action, n in db.session.execute(stmt).all():
        key = (unit, kind_of(action))
        totals[key] = totals.get(key, 0) + n
    order = list(KINDS)
    return [
        (unit, kind, n)
        for (unit, kind), n in sorted(totals.items(), key=lambda i: (i[0][0], order.index(i[0][1])))
    ]


def export_batches(
    actor: Actor, filters: ActivityFilters, before_seq: int | None = None
) -> Iterator[list[tuple]]:
    """The filtered activity as tuples in EXPORT_COLUMNS order, newest first, keyset batches."""
    base = _base(actor, filters, *_ROW_COLUMNS).order_by(AuditEvent.seq.desc()).limit(EXPORT_BATCH)
    last_seq = before_seq
    while True:
        stmt = base if last_seq is None else base.where(AuditEvent.seq < last_seq)
        rows = db.session.execute(stmt).all()
        db.session.rollback()
        if not rows:
            return
        yield [
            (r.occurred_at, r.username, r.role, r.unit, r.kind, r.outcome)
            for r in (_row(*row) for row in rows)
        ]
        if len(rows) < EXPORT_BATCH:
            return
        last_seq = rows[-1][0]
