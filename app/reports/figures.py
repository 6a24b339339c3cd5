"""Keeps the reports' figures tables (app.reports.models: CaseFigure, NeedServiceDays,
ReferralFigure, and their counts CaseCount, NeedDayCount, ReferralCount, ReferralAnswerCount)
equal to what the cases, needs, consents and referrals say.

`refresh_cases` recomputes the figures of some cases from their source rows and changes the
counts by the difference; app.reports.tracking calls it whenever the session writes case data,
in the same transaction. Every period is counted in that one refresh: the calendar ones and the
statutory ones of every counted rule (app.reports.periods explains why statutory periods are
rows of their own rather than sums of smaller buckets). After loads that bypass the session
(benchmarks), or restoring a backup, `flask reports rebuild-figures` recomputes them in bounded
steps (app.reports.services).

Definitions are those of app.reports.indicators (DESIGN.md, "The headline indicator").
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import date
from itertools import islice

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from app.audit import services as audit
from app.cases.models import Case, Consent, Need
from app.i18n import LOCAL_TZ
from app.orgs.models import OrgLevel, OrgUnit
from app.orgs.queries import provinces_of
from app.referrals.models import Referral
from app.referrals.status import CONNECTED_OUTCOMES
from app.reports.disclosure import derived_key, new_record_key
from app.reports.indicators import DECLINED_NEED, EXCLUDED_STATUS
from app.reports.models import (
    PROVINCE_COUNTS,
    WHOLE_CASE,
    CaseCount,
    CaseFigure,
    NeedDayCount,
    NeedServiceDays,
    RecordKey,
    ReferralAnswerCount,
    ReferralCount,
    ReferralFigure,
)
from app.reports.periods import CountedPeriods, counted_periods

BATCH = 500  # cases per statement (well under SQLite's limit of bound parameters)


def half_of(day: date) -> int:
    return 1 if day.month <= 6 else 2


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


def _case_rows(
    case_id, unit_id, consent_ok, needs, first, periods: CountedPeriods
) -> tuple[list[dict], list[dict]]:
    """The case's CaseFigure and NeedServiceDays rows, one set per period of its needs."""
    by_period: dict[tuple[int, int], list] = defaultdict(list)
    for need in needs:
        for key in periods.keys_of(need.identified_on):
            by_period[key].append(need)
    case_rows, day_rows = [], []
    for (year, half), period_needs in by_period.items():
        first_year = periods.bounds(year, half).start.year
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
                    "first_month": _month_number(min(n.identified_on for n in group), first_year)
                    if group
                    else None,
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


def _month_number(day: date, first_year: int) -> int:
    """1-12 for the months of the period's first year, 13-24 for those of the next."""
    return (day.year - first_year) * 12 + day.month


def record_keys(conn: sa.Connection, ids: Iterable[int], *, draw: bool = True) -> dict[int, int]:
    """case id -> its record key (app.reports.disclosure); drawn now for cases that have none
    (unless `draw` is false: then only the keys that exist)."""
    ids = sorted(set(ids))
    table = RecordKey.__table__
    keys: dict[int, int] = {}
    for batch in _batches(ids):
        rows = conn.execute(
            sa.select(table.c.case_id, table.c.record_key).where(table.c.case_id.in_(batch))
        )
        keys.update({case_id: record_key for case_id, record_key in rows})
    missing = [{"case_id": i, "record_key": new_record_key()} for i in ids if i not in keys]
    if missing and draw:
        conn.execute(table.insert(), missing)
        keys.update((row["case_id"], row["record_key"]) for row in missing)
    return keys


def _referral_row(r, unit_id: int, case_key: int) -> dict:
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
        "created_on": created,
        "sent_on": sent,
        "answer_days": answer_days,
        "respond_by": r.respond_by,
        "record_key": derived_key(case_key, "referral", r.id),
    }


def _compute(
    conn: sa.Connection, ids: list[int], keys: dict[int, int], periods: CountedPeriods
) -> dict[type, list[dict]]:
    units = dict(conn.execute(sa.select(Case.id, Case.org_unit_id).where(Case.id.in_(ids))).all())
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
            case_id, unit_id, case_id in consented, needs.get(case_id, []), first, periods
        )
        out[CaseFigure].extend(case_rows)
        out[NeedServiceDays].extend(day_rows)
    out[ReferralFigure] = [
        _referral_row(r, units[r.case_id], keys[r.case_id]) for r in referrals if r.case_id in units
    ]
    return out


# ------------------------------------------------------------------------------ counting

_FLAG_WINDOWS = (("served_30", 30), ("served_60", 60), ("served_90", 90))


def _count_keys(model: type, row: dict, periods: CountedPeriods) -> list[tuple[type, tuple]]:
    """The count rows (model, primary key) that one figures row adds 1 to."""
    if model is CaseFigure:
        days, served_on = row["best_days"], row["best_served_on"]
        end = periods.bounds(row["year"], row["half"]).end
        key = (
            row["year"],
            row["half"],
            row["category"],
            row["org_unit_id"],
            # By month only for the case as a whole: fewer count rows per category.
            (row["first_month"] or 0) if row["category"] == WHOLE_CASE else 0,
            row["counted"],
            row["consent_ok"],
            *(days is not None and days <= limit for _name, limit in _FLAG_WINDOWS),
            served_on is not None and served_on <= end,
        )
        return [(CaseCount, key)]
    if model is NeedServiceDays:
        end = periods.bounds(row["year"], row["half"]).end
        key = (
            row["year"],
            row["half"],
            row["org_unit_id"],
            row["days"],
            row["served_on"] <= end,
            row["consent_ok"],
        )
        return [(NeedDayCount, key)]
    unit = row["org_unit_id"]
    out = [
        (ReferralCount, (year, half, unit, row["status"], row["reason_code"] or ""))
        for year, half in _referral_periods(row, "created", periods)
    ]
    if row["sent_year"] is not None:
        days = row["answer_days"]
        answered = days is not None
        day = math.ceil(days) if answered else 0
        out.extend(
            (ReferralAnswerCount, (year, half, unit, answered, day))
            for year, half in _referral_periods(row, "sent", periods)
        )
    return out


def _referral_periods(row: dict, event: str, periods: CountedPeriods) -> list[tuple[int, int]]:
    """The periods a referral counts in by the day it was created or sent: its half-year (a
    calendar year is read as its two halves) and the statutory periods. A row written before
    statutory periods were counted has no day: it counted in its half-year only."""
    day = row[f"{event}_on"]
    if day is None:
        return [(row[f"{event}_year"], row[f"{event}_half"])]
    return periods.keys_of(day, calendar_year=False)


def _record_key_of(model: type, row: dict, keys: dict[int, int]) -> int:
    """The key a figures row adds to the key sums: its case's for a case, its own for a
    referral; days to service are never published as counts, so they carry none."""
    if model is CaseFigure:
        return keys[row["case_id"]]
    if model is ReferralFigure:
        return row["record_key"]
    return 0


Deltas = dict[type, defaultdict]


def _new_deltas() -> Deltas:
    return {model: defaultdict(lambda: [0, 0]) for model in COUNTS}


def _tally(
    rows: dict[type, list[dict]],
    sign: int,
    into: Deltas,
    keys: dict[int, int],
    periods: CountedPeriods,
) -> None:
    for model, model_rows in rows.items():
        for row in model_rows:
            record_key = _record_key_of(model, row, keys)
            for count_model, key in _count_keys(model, row, periods):
                delta = into[count_model][key]
                delta[0] += sign
                delta[1] += sign * record_key


def _add_counts(conn: sa.Connection, deltas: Deltas) -> None:
    """Add each delta (count and key sum) to its count row (created at 0 when missing), in key
    order; then the same to its province's count row."""
    for model, changes in deltas.items():
        _upsert(conn, model.__table__, changes)
    _add_province_counts(conn, deltas)


def _upsert(conn: sa.Connection, table: sa.Table, changes: dict) -> None:
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    names = [c.name for c in table.primary_key.columns]
    keyed = "ksum" in table.c
    rows = [
        dict(zip(names, key, strict=True), n=n, **({"ksum": ksum} if keyed else {}))
        for key, (n, ksum) in sorted(changes.items())
        if n or ksum
    ]
    if rows:
        stmt = insert(table)
        update = {"n": table.c.n + stmt.excluded.n}
        if keyed:
            update["ksum"] = table.c.ksum + stmt.excluded.ksum
        conn.execute(stmt.on_conflict_do_update(index_elements=names, set_=update), rows)


def _unit_at(model: type) -> int:
    """Where org_unit_id is in the count model's key."""
    return [c.name for c in model.__table__.primary_key.columns].index("org_unit_id")


def _add_province_counts(conn: sa.Connection, deltas: Deltas) -> None:
    """The deltas of unit counts, added to the counts of the units' provinces (the writer holds
    those provinces' shard locks already: `_lock_provinces`)."""
    units = {
        key[_unit_at(model)]
        for model, changes in deltas.items()
        for key, (n, ksum) in changes.items()
        if n or ksum
    }
    province = provinces_of(conn, units)
    for model, changes in deltas.items():
        at = _unit_at(model)
        summed: defaultdict = defaultdict(lambda: [0, 0])
        for key, (n, ksum) in changes.items():
            pid = province.get(key[at])
            if pid is not None and (n or ksum):
                delta = summed[(*key[:at], pid, *key[at + 1 :])]
                delta[0] += n
                delta[1] += ksum
        _upsert(conn, PROVINCE_COUNTS[model].__table__, summed)


FIGURES = (CaseFigure, NeedServiceDays, ReferralFigure)
COUNTS = (CaseCount, NeedDayCount, ReferralAnswerCount, ReferralCount)


def _replace_figures(conn: sa.Connection, ids: list[int], deltas: Deltas) -> None:
    """Recompute the figures rows of these cases; tally the change of the counts."""
    periods = counted_periods(conn)
    for batch in _batches(ids):
        old = {
            model: [
                dict(row._mapping)
                for row in conn.execute(
                    sa.select(model.__table__).where(model.__table__.c.case_id.in_(batch))
                )
            ]
            for model in FIGURES
        }
        keys = record_keys(conn, batch)
        new = _compute(conn, batch, keys, periods)
        _tally(old, -1, deltas, keys, periods)
        _tally(new, +1, deltas, keys, periods)
        for model, model_rows in new.items():
            table = model.__table__
            conn.execute(table.delete().where(table.c.case_id.in_(batch)))
            if model_rows:
                conn.execute(table.insert(), model_rows)


def _lock_provinces(conn: sa.Connection, ids: list[int]) -> None:
    """Lock the audit shards of the provinces whose count rows these cases touch (their unit
    now and the one their figures were counted in) before any count row: every writer takes
    shard heads first, in ascending order, then shared rows (app.audit.services.lock_shards)."""
    units: set[int] = set()
    for batch in _batches(ids):
        units.update(
            conn.execute(
                sa.select(Case.org_unit_id)
                .where(Case.id.in_(batch))
                .union(sa.select(CaseFigure.org_unit_id).where(CaseFigure.case_id.in_(batch)))
            ).scalars()
        )
    audit.lock_shards(conn, audit.shards_of_units(conn, units))


def refresh_cases(conn: sa.Connection, case_ids: Iterable[int]) -> None:
    """Recompute every figures row of these cases from their source rows, and the counts."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    _lock_provinces(conn, ids)
    deltas = _new_deltas()
    _replace_figures(conn, ids, deltas)
    _add_counts(conn, deltas)


# `flask reports rebuild-figures` works in bounded steps, each its own short transaction (the
# caller commits each): no lock is held for longer than one step, so case pages and writes
# elsewhere go on during a rebuild of a million cases.


def case_ids_after(conn: sa.Connection, after: int, limit: int) -> list[int]:
    return list(
        conn.execute(
            sa.select(Case.id).where(Case.id > after).order_by(Case.id).limit(limit)
        ).scalars()
    )


def drop_orphan_figures(conn: sa.Connection) -> int:
    """Remove figures rows of cases that no longer exist (rows loaded outside the app)."""
    gone = 0
    for model in FIGURES:
        table = model.__table__
        result = conn.execute(
            table.delete().where(~table.c.case_id.in_(sa.select(Case.id).scalar_subquery()))
        )
        gone += result.rowcount or 0
    return gone


def counted_units_after(conn: sa.Connection, after: int, limit: int) -> list[int]:
    """Org units that have figures or count rows, in id order, after `after`."""
    unit_sets = [
        sa.select(model.__table__.c.org_unit_id.label("unit")).where(
            model.__table__.c.org_unit_id > after
        )
        for model in (*FIGURES, *COUNTS)
    ]
    union = sa.union(*unit_sets).subquery()
    return list(conn.execute(sa.select(union.c.unit).order_by(union.c.unit).limit(limit)).scalars())


def _tally_units(conn: sa.Connection, unit_ids: list[int]) -> Deltas:
    """The counts (and key sums) of these org units as their figures rows say."""
    deltas = _new_deltas()
    rows = {
        model: [
            dict(row._mapping)
            for row in conn.execute(
                sa.select(model.__table__).where(model.__table__.c.org_unit_id.in_(unit_ids))
            )
        ]
        for model in FIGURES
    }
    cases = {row["case_id"] for row in rows[CaseFigure]}
    _tally(rows, +1, deltas, record_keys(conn, cases, draw=False), counted_periods(conn))
    return deltas


def _stored_counts(conn: sa.Connection, model: type, where) -> dict[tuple, tuple[int, int]]:
    """The non-zero count rows of `model` matching `where`: key -> (n, ksum)."""
    table = model.__table__
    keyed = "ksum" in table.c
    columns = [*table.primary_key.columns, table.c.n, table.c.ksum if keyed else sa.literal(0)]
    return {
        tuple(row[:-2]): (row[-2], row[-1])
        for row in conn.execute(sa.select(*columns).where(where(table)))
        if row[-2] or row[-1]
    }


def _non_zero(changes: dict) -> dict[tuple, tuple[int, int]]:
    return {key: (n, ksum) for key, (n, ksum) in changes.items() if n or ksum}


def units_with_wrong_counts(conn: sa.Connection, unit_ids: list[int]) -> list[int]:
    """Those of these org units whose stored counts differ from their figures rows."""
    wanted = _tally_units(conn, unit_ids)
    wrong: set[int] = set()
    for model in COUNTS:
        at = _unit_at(model)
        stored = _stored_counts(conn, model, lambda t: t.c.org_unit_id.in_(unit_ids))
        expected = _non_zero(wanted[model])
        for key in stored.keys() ^ expected.keys():
            wrong.add(key[at])
        for key in stored.keys() & expected.keys():
            if stored[key] != expected[key]:
                wrong.add(key[at])
    return sorted(wrong)


def recount_units(conn: sa.Connection, unit_ids: list[int]) -> None:
    """Recompute the counts of these org units from their figures rows: their counts change
    by the difference, and their provinces' with them."""
    audit.lock_shards(conn, audit.shards_of_units(conn, unit_ids))
    deltas = _tally_units(conn, unit_ids)
    for model in COUNTS:
        stored = _stored_counts(conn, model, lambda t: t.c.org_unit_id.in_(unit_ids))
        for key, (n, ksum) in stored.items():
            delta = deltas[model][key]
            delta[0] -= n
            delta[1] -= ksum
    _add_counts(conn, deltas)


def _province_tally(conn: sa.Connection, province_id: int) -> Deltas:
    """A province's counts as the sum of its units' counts."""
    path = conn.execute(sa.select(OrgUnit.path).where(OrgUnit.id == province_id)).scalar_one()
    units = sa.select(OrgUnit.id).where(OrgUnit.path.startswith(path, autoescape=True))
    out = _new_deltas()
    for model in COUNTS:
        at = _unit_at(model)
        for key, (n, ksum) in _stored_counts(
            conn, model, lambda t: t.c.org_unit_id.in_(units)
        ).items():
            delta = out[model][(*key[:at], province_id, *key[at + 1 :])]
            delta[0] += n
            delta[1] += ksum
    return out


def province_counts_wrong(conn: sa.Connection, province_id: int) -> bool:
    """The province's counts differ from the sum of its units' counts (after a unit moved
    between provinces, or count rows loaded or mended outside `_add_counts`)."""
    wanted = _province_tally(conn, province_id)
    return any(
        _stored_counts(conn, PROVINCE_COUNTS[m], lambda t: t.c.org_unit_id == province_id)
        != _non_zero(wanted[m])
        for m in COUNTS
    )


def recount_province(conn: sa.Connection, province_id: int) -> None:
    """Set the province's counts to the sum of its units' counts, under its shard lock."""
    audit.lock_shards(conn, audit.shards_of_units(conn, [province_id]))
    wanted = _province_tally(conn, province_id)
    for model in COUNTS:
        table = PROVINCE_COUNTS[model].__table__
        conn.execute(table.delete().where(table.c.org_unit_id == province_id))
        _upsert(conn, table, wanted[model])


def province_ids(conn: sa.Connection) -> list[int]:
    return list(
        conn.execute(
            sa.select(OrgUnit.id).where(OrgUnit.level == OrgLevel.PROVINCE).order_by(OrgUnit.id)
        ).scalars()
    )


def rebuild(conn: sa.Connection, progress: Callable[[int], None] | None = None) -> int:
    """Every step of a rebuild in the caller's one transaction: for loaders that own the
    database (benchmarks) and tests. The service commits step by step instead."""
    done = last = 0
    while ids := case_ids_after(conn, last, BATCH * 4):
        refresh_cases(conn, ids)
        done, last = done + len(ids), ids[-1]
        if progress:
            progress(len(ids))
    drop_orphan_figures(conn)
    last = 0
    while units := counted_units_after(conn, last, BATCH):
        recount_units(conn, units)
        last = units[-1]
    for province_id in province_ids(conn):
        recount_province(conn, province_id)
    return done
