"""Refreshes the reports' figures (app.reports.figures) whenever the session writes a case, a
need, a consent or a referral: in the same transaction, so a report never sees a half-applied
action, and without any service having to remember to call anything."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.cases.models import Case, Consent, Need
from app.orgs.models import OrgUnit
from app.orgs.queries import provinces_of
from app.referrals.models import Referral
from app.reports.figures import recount_province, refresh_cases

TRACKED = (Case, Need, Consent, Referral)


def _case_id_of(obj) -> int | None:
    return obj.id if isinstance(obj, Case) else obj.case_id


@event.listens_for(Session, "after_flush")
def _refresh_after_flush(session: Session, flush_context) -> None:
    """The flush has written cases, needs, consents or referrals: refresh those cases' figures
    with the same connection, inside the same transaction."""
    ids = {
        _case_id_of(obj)
        for obj in (*session.new, *session.dirty, *session.deleted)
        if isinstance(obj, TRACKED)
    }
    ids.discard(None)
    if ids:
        refresh_cases(session.connection(), ids)
    _follow_moved_units(session)


def _follow_moved_units(session: Session) -> None:
    """A unit moved to another province (app.orgs.services.move_org_unit: its subtree's paths
    are rewritten before this flush): both provinces' counts are summed again."""
    moved = set()
    for obj in session.dirty:
        if isinstance(obj, OrgUnit):
            old_parents = sa.inspect(obj).attrs.parent.history.deleted
            if old_parents and old_parents[0] is not None:
                moved.add((obj.id, old_parents[0].id))
    if not moved:
        return
    conn = session.connection()
    province = provinces_of(conn, {i for pair in moved for i in pair})
    changed = {
        pid
        for unit_id, old_parent_id in moved
        if province.get(unit_id) != province.get(old_parent_id)
        for pid in (province.get(unit_id), province.get(old_parent_id))
        if pid is not None
    }
    for pid in sorted(changed):
        recount_province(conn, pid)


@event.listens_for(Session, "do_orm_execute")
def _refresh_after_bulk_insert(state) -> sa.Result | None:
    """`session.execute(insert(Need), rows)` bypasses the flush: refresh those rows' cases."""
    mapper = state.bind_mapper
    if mapper is None or mapper.class_ not in TRACKED:
        return None
    if state.is_update or state.is_delete:
        raise RuntimeError(
            f"bulk UPDATE/DELETE of {mapper.class_.__name__} would leave the reports' figures "
            "stale; change the objects through the session instead"
        )
    if not state.is_insert:
        return None
    result = state.invoke_statement()
    params = state.parameters if isinstance(state.parameters, list) else [state.parameters]
    key = "id" if mapper.class_ is Case else "case_id"
    refresh_cases(state.session.connection(), (p[key] for p in params if p and p.get(key)))
    return result
