"""Each search token carries its case's province (`CaseSearchToken.province_id`), so that a
caseworker's search walks her own province's tokens only (app.cases.search): what a search
costs follows the size of her province, not the country's (a name found nowhere in Hà Nội
walked every token of that name in the country).

Kept true here, inside the flush that moves a case (an accepted transfer) or a unit (a commune
moved into another province), like the reports' figures (app.reports.tracking): no service has
to remember it. A stale province could only hide a case from a search, never show one: the
search still tests every case against the caller's scope."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.cases.models import Case, CaseSearchToken
from app.orgs.models import OrgLevel, OrgUnit
from app.orgs.queries import province_id_on_path, provinces_of

_TOKENS = CaseSearchToken.__table__


def _restamp(conn: sa.Connection, case_ids: sa.Select, province_id: int | None) -> None:
    conn.execute(
        sa.update(_TOKENS).where(_TOKENS.c.case_id.in_(case_ids)).values(province_id=province_id)
    )


@event.listens_for(Session, "after_flush")
def _follow_moves(session: Session, flush_context) -> None:
    """A case that changed unit, or a unit that changed parent (its subtree's paths rewritten
    before this flush): their tokens take the province they are in now, when it changed."""
    moved_cases: list[Case] = []
    moved_units: list[tuple[OrgUnit, OrgUnit | None]] = []
    for obj in session.dirty:
        if isinstance(obj, Case) and sa.inspect(obj).attrs.org_unit_id.history.deleted:
            moved_cases.append(obj)
        elif isinstance(obj, OrgUnit):
            old_parents = sa.inspect(obj).attrs.parent.history.deleted
            if old_parents:
                moved_units.append((obj, old_parents[0]))
    if not moved_cases and not moved_units:
        return
    conn = session.connection()
    provinces = provinces_of(conn, {case.org_unit_id for case in moved_cases})
    for case in moved_cases:
        _restamp(conn, sa.select(sa.literal(case.id)), provinces.get(case.org_unit_id))
    for unit, old_parent in moved_units:
        if unit.level == OrgLevel.PROVINCE:
            continue  # a province moved (under the central unit) is still its cases' province
        before = province_id_on_path(conn, old_parent.path) if old_parent is not None else None
        now = province_id_on_path(conn, unit.path)
        if before != now:
            below = sa.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
            _restamp(conn, sa.select(Case.id).where(Case.org_unit_id.in_(below)), now)
