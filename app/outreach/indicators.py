"""The plans' outreach indicators: plain SQL aggregates over outreach_activities.

Each function takes an org unit (the subtree counted), and an inclusive date range on
`held_on`. Deleted entries and retired communes never count. Reports call these directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.orgs.models import OrgUnit
from app.outreach import months
from app.outreach.models import OutreachActivity, OutreachMonth
from app.outreach.queries import communes_under
from app.outreach.vocab import AUDIENCES, FORMS, REACHED_COLUMNS

A = OutreachActivity.__table__.c


def _subtree_ids(org_unit: OrgUnit):
    return sa.select(OrgUnit.id).where(OrgUnit.path.startswith(org_unit.path, autoescape=True))


def _live(org_unit: OrgUnit, start: date, end: date) -> list:
    return [
        A.org_unit_id.in_(_subtree_ids(org_unit)),
        A.deleted_at.is_(None),
        A.held_on >= start,
        A.held_on <= end,
    ]


def _communes(org_unit: OrgUnit):
    return communes_under(org_unit.path).with_only_columns(OrgUnit.id)


def _reached_sums() -> list:
    """The people reached per audience, in AUDIENCES order (0 when no activity)."""
    return [sa.func.coalesce(sa.func.sum(A[column]), 0) for column in REACHED_COLUMNS]


def communes_with_activity(org_unit: OrgUnit, start: date, end: date) -> tuple[int, int]:
    """(communes/wards with at least one activity in the period, communes/wards in the subtree)."""
    communes = _communes(org_unit)
    total = db.session.execute(
        sa.select(sa.func.count()).select_from(communes.subquery())
    ).scalar_one()
    covered = db.session.execute(
        sa.select(sa.func.count(sa.distinct(A.org_unit_id))).where(
            *_live(org_unit, start, end), A.org_unit_id.in_(communes)
        )
    ).scalar_one()
    return covered, total


def communes_without_activity(org_unit: OrgUnit, start: date, end: date) -> list[OrgUnit]:
    """The communes/wards of the subtree with no activity in the period (below target)."""
    active = sa.select(A.org_unit_id).where(*_live(org_unit, start, end))
    stmt = (
        sa.select(OrgUnit)
        .where(OrgUnit.id.in_(_communes(org_unit)), OrgUnit.id.not_in(active))
        .order_by(OrgUnit.name, OrgUnit.code)
    )
    return list(db.session.execute(stmt).scalars())


def people_reached(org_unit: OrgUnit, start: date, end: date) -> dict[str, int]:
    """Audience code -> people reached (every audience present, zero when none)."""
    row = db.session.execute(sa.select(*_reached_sums()).where(*_live(org_unit, start, end))).one()
    return {code: int(value) for code, value in zip(AUDIENCES, row, strict=True)}


@dataclass
class UnitOutreach:
    """One org unit's own live activities in a period (not its subtree's)."""

    activities: int
    reached: dict[str, int]  # audience code -> people


def by_unit(org_unit: OrgUnit, start: date, end: date) -> dict[int, UnitOutreach]:
    """Org unit id -> its own activities and people reached, for every unit of the subtree with
    an activity in the period (reports sum them per row): whole months from the months kept
    with the activities (app.outreach.months), the days of partly covered months from the
    activities themselves."""
    sums: dict[int, list[int]] = {}
    # Through the connection: the ORM's handling of 3,300 result rows cost more than the query.
    # Sums of integer columns come back as integers on both databases.
    run = db.session.connection().execute

    def add(rows) -> None:
        for uid, *values in rows:
            total = sums.get(uid)
            sums[uid] = (
                values if total is None else [a + b for a, b in zip(total, values, strict=True)]
            )

    whole = months.whole_months(start, end)
    if whole is not None:
        kept = OutreachMonth.__table__.c
        add(
            run(
                sa.select(
                    kept.org_unit_id,
                    sa.func.sum(kept.activities),
                    *(sa.func.sum(kept[column]) for column in REACHED_COLUMNS),
                )
                .where(
                    kept.org_unit_id.in_(_subtree_ids(org_unit)),
                    kept.month.between(*whole),
                )
                .group_by(kept.org_unit_id)
            )
        )
    for first, last in months.partial_ranges(start, end):
        add(
            run(
                sa.select(A.org_unit_id, sa.func.count(), *_reached_sums())
                .where(*_live(org_unit, first, last))
                .group_by(A.org_unit_id)
            )
        )
    return {
        uid: UnitOutreach(n, dict(zip(AUDIENCES, reached, strict=True)))
        for uid, (n, *reached) in sums.items()
        if n
    }


def reached_by_form(org_unit: OrgUnit, start: date, end: date) -> dict[str, dict[str, int]]:
    """Form code -> {"activities": n, "reached": people} (every form present, zeros when none)."""
    total = sum((A[column] for column in REACHED_COLUMNS), sa.literal(0))
    stmt = (
        sa.select(A.form, sa.func.count(), sa.func.coalesce(sa.func.sum(total), 0))
        .where(*_live(org_unit, start, end))
        .group_by(A.form)
    )
    result = {code: {"activities": 0, "reached": 0} for code in FORMS}
    for form, count, reached in db.session.execute(stmt):
        result[form] = {"activities": int(count), "reached": int(reached)}
    return result


def activities_per_month(org_unit: OrgUnit, start: date, end: date) -> list[tuple[str, int]]:
    """[("YYYY-MM", activities)] for every month of the period, oldest first, zeros included."""
    year = sa.extract("year", A.held_on)
    month = sa.extract("month", A.held_on)
    stmt = (
        sa.select(year, month, sa.func.count())
        .where(*_live(org_unit, start, end))
        .group_by(year, month)
    )
    counts = {(int(y), int(m)): int(n) for y, m, n in db.session.execute(stmt)}
    months = []
    y, m = start.year, start.month
    while (y, m) <= (end.year, end.month):
        months.append((f"{y:04d}-{m:02d}", counts.get((y, m), 0)))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return months
