"""Keeps `outreach_months` (app.outreach.models.OutreachMonth) equal to what the live outreach
activities say: whenever the session writes an activity, in the same transaction, its old
contribution is taken from its unit's month and its new one added (deltas, so two volunteers of
one commune logging at once both count). Loads that bypass the session (benchmarks) are mended
by `flask reports rebuild-figures` (`recount_units`).

`by_unit` (app.outreach.indicators) reads whole months from here and only the days of a
period's partly covered months (a statutory period ending on the 14th) from the activities.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit import services as audit
from app.outreach.models import OutreachActivity, OutreachMonth
from app.outreach.vocab import REACHED_COLUMNS

_A = OutreachActivity.__table__.c
_FIELDS = ("org_unit_id", "held_on", "deleted_at", *REACHED_COLUMNS)
_SUMS = ("activities", *REACHED_COLUMNS)


def month_of(day: date) -> int:
    return day.year * 12 + day.month - 1


def first_day(month: int) -> date:
    return date(month // 12, month % 12 + 1, 1)


def last_day(month: int) -> date:
    year, m = month // 12, month % 12 + 1
    return date(year, m, calendar.monthrange(year, m)[1])


def whole_months(start: date, end: date) -> tuple[int, int] | None:
    """The first and last month wholly inside [start, end], or None when there is none."""
    first = month_of(start) if start.day == 1 else month_of(start) + 1
    last = month_of(end) if end == last_day(month_of(end)) else month_of(end) - 1
    return (first, last) if first <= last else None


def partial_ranges(start: date, end: date) -> list[tuple[date, date]]:
    """The days of [start, end] outside its whole months (at most two ranges)."""
    months = whole_months(start, end)
    if months is None:
        return [(start, end)]
    out = []
    if start < first_day(months[0]):
        out.append((start, first_day(months[0]) - timedelta(days=1)))
    if end > last_day(months[1]):
        out.append((last_day(months[1]) + timedelta(days=1), end))
    return out


# ------------------------------------------------------------------------------ keeping


def _now(obj: OutreachActivity) -> dict:
    return {name: getattr(obj, name) for name in _FIELDS}


def _add(deltas: dict, values: dict, sign: int) -> None:
    """Add (or take back) one activity's contribution to its unit's month: live ones only."""
    if values["deleted_at"] is not None or values["held_on"] is None:
        return
    if values["org_unit_id"] is None:
        return
    delta = deltas[(values["org_unit_id"], month_of(values["held_on"]))]
    delta[0] += sign
    for i, column in enumerate(REACHED_COLUMNS, start=1):
        delta[i] += sign * (values[column] or 0)


def add_deltas(conn: sa.Connection, deltas: dict) -> None:
    """Add each (unit, month) delta to its row (created at 0 when missing), in key order, after
    the units' provinces' audit shard locks: every writer takes shard heads first, then shared
    rows (app.audit.services.lock_shards)."""
    if not deltas:
        return
    audit.lock_shards(conn, audit.shards_of_units(conn, {unit for unit, _m in deltas}))
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    table = OutreachMonth.__table__
    rows = [
        {"org_unit_id": unit, "month": month, **dict(zip(_SUMS, d, strict=True))}
        for (unit, month), d in sorted(deltas.items())
    ]
    stmt = insert(table)
    update = {name: table.c[name] + stmt.excluded[name] for name in _SUMS}
    conn.execute(
        stmt.on_conflict_do_update(index_elements=["org_unit_id", "month"], set_=update), rows
    )


_BEFORE = "outreach_rows_before_flush"


@event.listens_for(Session, "before_flush")
def _note_rows_before(session: Session, flush_context, instances) -> None:
    """The stored values of the activities this flush changes, read before it writes them: the
    objects' own history does not say what an attribute held when it was None or expired."""
    ids = [
        obj.id
        for obj in (*session.dirty, *session.deleted)
        if isinstance(obj, OutreachActivity) and obj.id is not None
    ]
    if ids:
        rows = session.connection().execute(
            sa.select(_A.id, *(_A[name] for name in _FIELDS)).where(_A.id.in_(ids))
        )
        session.info.setdefault(_BEFORE, {}).update({row.id: dict(row._mapping) for row in rows})


@event.listens_for(Session, "after_flush")
def _keep_months(session: Session, flush_context) -> None:
    """The flush has written outreach activities: change their months by the difference."""
    before = session.info.pop(_BEFORE, {})
    deltas: dict = defaultdict(lambda: [0] * len(_SUMS))
    for obj in session.new:
        if isinstance(obj, OutreachActivity):
            _add(deltas, _now(obj), +1)
    for obj in session.dirty:
        if isinstance(obj, OutreachActivity) and obj.id in before:
            _add(deltas, before[obj.id], -1)
            _add(deltas, _now(obj), +1)
    for obj in session.deleted:
        if isinstance(obj, OutreachActivity) and obj.id in before:
            _add(deltas, before[obj.id], -1)
    add_deltas(session.connection(), {key: d for key, d in deltas.items() if any(d)})


# ------------------------------------------------------------------------------ mending


def _month_expr():
    return sa.extract("year", _A.held_on) * 12 + sa.extract("month", _A.held_on) - 1


def _counted(unit_ids) -> sa.Select:
    """The months of these units as their live activities say."""
    month = _month_expr()
    return (
        sa.select(
            _A.org_unit_id,
            month.label("month"),
            sa.func.count().label("activities"),
            *(sa.func.coalesce(sa.func.sum(_A[c]), 0).label(c) for c in REACHED_COLUMNS),
        )
        .where(_A.org_unit_id.in_(unit_ids), _A.deleted_at.is_(None))
        .group_by(_A.org_unit_id, month)
    )


def units_after(conn: sa.Connection, after: int, limit: int) -> list[int]:
    """Units with activities or kept months, in id order, after `after`."""
    union = sa.union(
        sa.select(_A.org_unit_id.label("unit")).where(_A.org_unit_id > after),
        sa.select(OutreachMonth.org_unit_id.label("unit")).where(OutreachMonth.org_unit_id > after),
    ).subquery()
    return list(conn.execute(sa.select(union.c.unit).order_by(union.c.unit).limit(limit)).scalars())


def units_with_wrong_months(conn: sa.Connection, unit_ids: list[int]) -> list[int]:
    """Those of these units whose kept months differ from their activities."""
    table = OutreachMonth.__table__
    stored = {
        (row[0], row[1]): tuple(row[2:])
        for row in conn.execute(
            sa.select(table.c.org_unit_id, table.c.month, *(table.c[n] for n in _SUMS)).where(
                table.c.org_unit_id.in_(unit_ids)
            )
        )
        if any(row[2:])
    }
    wanted = {
        (row[0], int(row[1])): tuple(int(v) for v in row[2:])
        for row in conn.execute(_counted(unit_ids))
    }
    return sorted(
        {key[0] for key in stored.keys() ^ wanted.keys()}
        | {key[0] for key in stored.keys() & wanted.keys() if stored[key] != wanted[key]}
    )


def recount_units(conn: sa.Connection, unit_ids: list[int]) -> None:
    """Set these units' months to what their activities say, under their shard locks."""
    audit.lock_shards(conn, audit.shards_of_units(conn, unit_ids))
    table = OutreachMonth.__table__
    conn.execute(table.delete().where(table.c.org_unit_id.in_(unit_ids)))
    rows = [dict(row._mapping) for row in conn.execute(_counted(unit_ids))]
    if rows:
        conn.execute(table.insert(), [{**r, "month": int(r["month"])} for r in rows])
