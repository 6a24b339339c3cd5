"""Keeps the reports' figures tables (app.reports.models: CaseFigure, NeedServiceDays,
ReferralFigure) equal to what the cases, needs, consents and referrals say.

Whenever a flush writes one of those rows, the figures of the cases concerned are recomputed
from the source rows in the same transaction, so a report never sees a half-applied action and
no service has to remember to call anything. Bulk loads that bypass the unit of work (`flask
demo --cases`, benchmarks) call `refresh_cases` or `rebuild` themselves; `flask reports
rebuild-figures` recomputes everything, for instance after restoring an old backup.

Definitions are those of app.reports.indicators (DESIGN.md, "The headline indicator").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from itertools import islice

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.cases.models import Case, Consent, Need
from app.referrals.models import Referral
from app.reports.indicators import CONNECTED_OUTCOMES, DECLINED_NEED, EXCLUDED_STATUS, LOCAL_TZ
from app.reports.models import WHOLE_CASE, CaseFigure, NeedServiceDays, ReferralFigure

BATCH = 500  # cases per statement (well under SQLite's limit of bound parameters)
TRACKED = (Case, Need, Consent, Referral)


def half_of(day: date) -> int:
    return 1 if day.month <= 6 else 2


def periods_of(day: date) -> tuple[tuple[int, int], tuple[int, int]]:
    """The two reporting periods a day falls in: its year (half 0) and its half-year."""
    return (day.year, 0), (day.year, half_of(day))


def _local_date(moment) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def _batches(ids: Iterable[int], size: int = BATCH):
    it = iter(sorted(set(ids)))
    while chunk := list(islice(it, size)):
        yield chunk


# ------------------------------------------------------------------------------ computing


def _first_services(referrals) -> dict[int, date]:
    """need id -> the earliest date a connecting referral delivered its service."""
    first: dict[int, date] = {}
    for r in referrals:
        if r.status == "completed" and r.outcome in CONNECTED_OUTCOMES and r.completed_on:
            if r.need_id not in first or r.completed_on < first[r.need_id]:
                first[r.need_id] = r.completed_on
    return first


def _case_rows(case_id, unit_id, consent_ok, needs, first) -> tuple[list[dict], list[dict]]:
    """The case's CaseFigure and NeedServiceDays rows, one set per period of its needs."""
    by_period: dict[tuple[int, int], list] = defaultdict(list)
    for need in needs:
        for key in periods_of(need.identified_on):
            by_period[key].append(need)
    case_rows, day_rows = [], []
    for (year, half), period_needs in by_period.items():
        counted = [n for n in period_needs if n.status != DECLINED_NEED]
        groups: dict[str, list] = {WHOLE_CASE: counted}
        for need in counted:
            groups.setdefault(need.category, []).append(need)
        for category, group in groups.items():
            served = [(first[n.id], n) for n in group if n.id in first]
            case_rows.append(
                {
                    "case_id": case_id,
                    "year": year,
                    "half": half,
                    "category": category,
                    "org_unit_id": unit_id,
                    "first_month": min(n.identified_on for n in group).month if group else None,
                    "counted": bool(group),
                    "consent_ok": consent_ok,
                    "best_days": min((s - n.identified_on).days for s, n in served)
                    if served
                    else None,
                    "best_served_on": min(s for s, _n in served) if served else None,
                }
            )
        for need in counted:
            if need.id in first:
                day_rows.append(
                    {
                        "need_id": need.id,
                        "year": year,
                        "half": half,
                        "case_id": case_id,
                        "org_unit_id": unit_id,
                        "days": (first[need.id] - need.identified_on).days,
                        "served_on": first[need.id],
                        "consent_ok": consent_ok,
                    }
                )
    return case_rows, day_rows


def _referral_row(r, unit_id: int) -> dict:
    created = _local_date(r.created_at)
    sent = _local_date(r.sent_at) if r.sent_at is not None else None
    answer_days = None
    if r.sent_at is not None and r.responded_at is not None:
        answer_days = (r.responded_at - r.sent_at).total_seconds() / 86400
    return {
        "referral_id": r.id,
        "case_id": r.case_id,
        "org_unit_id": unit_id,
        "status": r.status,
        "reason_code": r.reason_code,
        "created_year": created.year,
        "created_half": half_of(created),
        "sent_year": sent.year if sent else None,
        "sent_half": half_of(sent) if sent else None,
        "answer_days": answer_days,
        "respond_by": r.respond_by,
    }


def _compute(conn: sa.Connection, ids: list[int]) -> dict[type, list[dict]]:
    # Locking the cases (PostgreSQL; SQLite's writes are serialized already) makes concurrent
    # refreshes of one case wait for each other: the second then deletes the rows the first
    # inserted instead of colliding with them.
    units = dict(
        conn.execute(
            sa.select(Case.id, Case.org_unit_id)
            .where(Case.id.in_(ids))
            .order_by(Case.id)
            .with_for_update()
        ).all()
    )
    consented = set(
        conn.execute(
            sa.select(Consent.case_id).where(
                Consent.case_id.in_(ids),
                Consent.purpose == "record",
                Consent.withdrawn_at.is_(None),
            )
        ).scalars()
    )
    needs = defaultdict(list)
    for need in conn.execute(
        sa.select(Need.id, Need.case_id, Need.category, Need.identified_on, Need.status).where(
            Need.case_id.in_(ids)
        )
    ):
        needs[need.case_id].append(need)
    referrals = conn.execute(
        sa.select(
            Referral.id,
            Referral.case_id,
            Referral.need_id,
            Referral.status,
            Referral.outcome,
            Referral.reason_code,
            Referral.completed_on,
            Referral.created_at,
            Referral.sent_at,
            Referral.responded_at,
            Referral.respond_by,
        ).where(Referral.case_id.in_(ids), Referral.status != EXCLUDED_STATUS)
    ).all()
    first = _first_services(referrals)
    out: dict[type, list[dict]] = {CaseFigure: [], NeedServiceDays: [], ReferralFigure: []}
    for case_id, unit_id in units.items():
        case_rows, day_rows = _case_rows(
            case_id, unit_id, case_id in consented, needs.get(case_id, []), first
        )
        out[CaseFigure].extend(case_rows)
        out[NeedServiceDays].extend(day_rows)
    out[ReferralFigure] = [
        _referral_row(r, units[r.case_id]) for r in referrals if r.case_id in units
    ]
    return out


def refresh_cases(conn: sa.Connection, case_ids: Iterable[int]) -> None:
    """Recompute every figures row of these cases from their source rows."""
    for ids in _batches(case_ids):
        rows = _compute(conn, ids)
        for model, model_rows in rows.items():
            table = model.__table__
            conn.execute(table.delete().where(table.c.case_id.in_(ids)))
            if model_rows:
                conn.execute(table.insert(), model_rows)


def rebuild(conn: sa.Connection, progress: Callable[[int], None] | None = None) -> int:
    """Recompute the figures of every case (in batches); returns the number of cases."""
    for model in (CaseFigure, NeedServiceDays, ReferralFigure):
        conn.execute(model.__table__.delete())
    done = 0
    last = 0
    while True:
        ids = list(
            conn.execute(
                sa.select(Case.id).where(Case.id > last).order_by(Case.id).limit(BATCH * 4)
            ).scalars()
        )
        if not ids:
            return done
        refresh_cases(conn, ids)
        done += len(ids)
        last = ids[-1]
        if progress:
            progress(len(ids))


# ------------------------------------------------------------------------------ tracking


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
