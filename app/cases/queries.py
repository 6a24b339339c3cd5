"""Scoped read queries: every case is loaded through `visible_cases(actor)`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
import sqlalchemy.orm

from app.cases.models import BreakGlassGrant, Case, Need, NeedPriority, NeedStatus
from app.cases.search import Scope, find_case_ids, probe_groups
from app.db import utcnow
from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit, User
from app.orgs.queries import province_id_on_path, province_of
from app.permissions import (
    Actor,
    Role,
    in_org_scope,
    in_org_scope_row_by_row,
    not_found,
    org_subtree_ids,
)


def active_break_glass_case_ids(actor: Actor):
    return sa.select(BreakGlassGrant.case_id).where(
        BreakGlassGrant.user_id == actor.user_id, BreakGlassGrant.expires_at > utcnow()
    )


def visible_cases(actor: Actor) -> sa.Select:
    """Cases the actor may open: caseworkers their subtree, volunteers their own, admins only
    through a live break-glass grant; supervisors and partners none."""
    stmt = sa.select(Case)
    if actor.has_role(Role.CASEWORKER):
        return stmt.where(in_org_scope(Case.org_unit_id, actor))
    if actor.has_role(Role.VOLUNTEER) and actor.user_id is not None:
        return stmt.where(
            sa.or_(Case.opened_by_id == actor.user_id, Case.assigned_to_id == actor.user_id)
        )
    if actor.has_role(Role.ADMIN) and actor.user_id is not None:
        return stmt.where(Case.id.in_(active_break_glass_case_ids(actor)))
    return stmt.where(sa.false())


_CODE_SHAPE = re.compile(r"^[A-Z]{1,4}-\d{4}-\d{5,}$")


def clean_ref(code: str | None) -> str | None:
    """The code for the audit trail, or None when the text is not shaped like a case code
    (whatever else was typed into a URL or a form never reaches the audit trail)."""
    return code if code and len(code) <= 40 and _CODE_SHAPE.match(code) else None


def get_case_or_404(actor: Actor, code: str) -> Case:
    # With its unit and data key: every case page and action records an audit event in the
    # unit's shard (its path) and most decrypt; loaded apart, they were two more statements,
    # the unit one after the commit, from the page's template.
    stmt = visible_cases(actor).where(Case.code == code)
    stmt = stmt.options(sa.orm.joinedload(Case.org_unit), sa.orm.joinedload(Case.data_key))
    case = db.session.execute(stmt).scalar_one_or_none()
    if case is None:
        not_found(actor, "case", clean_ref(code))
    return case


def get_case_by_code(code: str) -> Case | None:
    """Unscoped: for services that must check existence (break-glass, duplicates)."""
    return db.session.execute(sa.select(Case).where(Case.code == code)).scalar_one_or_none()


def get_incoming_transfer_or_404(actor: Actor, code: str) -> Case:
    """A case whose transfer into the actor's subtree awaits acceptance."""
    case = None
    if actor.has_role(Role.CASEWORKER):
        case = db.session.execute(
            sa.select(Case).where(
                Case.code == code, in_org_scope(Case.transfer_to_org_unit_id, actor)
            )
        ).scalar_one_or_none()
    if case is None:
        not_found(actor, "case", clean_ref(code))
    return case


def incoming_transfers(actor: Actor) -> list[sa.Row]:
    """Cases waiting for the actor's subtree to accept them: (code, transfer_requested_at)."""
    if not actor.has_role(Role.CASEWORKER):
        return []
    return list(
        db.session.execute(
            sa.select(Case.code, Case.transfer_requested_at)
            .where(in_org_scope(Case.transfer_to_org_unit_id, actor))
            .order_by(Case.transfer_requested_at)
        )
    )


def org_units_for_intake(actor: Actor) -> list[OrgUnit]:
    """Where the actor may open a case: volunteers their own commune; caseworkers their subtree."""
    if actor.has_role(Role.VOLUNTEER):
        return list(
            db.session.execute(sa.select(OrgUnit).where(OrgUnit.id == actor.org_unit_id)).scalars()
        )
    if actor.has_role(Role.CASEWORKER):
        return list(
            db.session.execute(
                sa.select(OrgUnit)
                .where(OrgUnit.id.in_(org_subtree_ids(actor)), OrgUnit.is_retired.is_(False))
                .order_by(OrgUnit.path)
            ).scalars()
        )
    return []


def intake_assignees(actor: Actor) -> list[User]:
    """Caseworkers an intake may be assigned to: those whose unit is above, at or below the
    actor's."""
    users = db.session.execute(
        sa.select(User)
        .where(User.role == Role.CASEWORKER, User.is_enabled.is_(True))
        .join(OrgUnit, User.org_unit_id == OrgUnit.id)
        .order_by(User.username)
    ).scalars()
    path = actor.org_path or "\x00"
    return [
        u for u in users if path.startswith(u.org_unit.path) or u.org_unit.path.startswith(path)
    ]


def transfer_targets(actor: Actor, case: Case) -> list[sa.Row]:
    """Where a case can be sent (rows of id and name): any unit of its own province, or another
    province's Women's Union, which passes it on. The whole country (3,300 communes) made every
    case page a 3,400-option list: 70 ms to render and unusable on a phone. Plain rows: a
    province's 160 units as ORM objects cost more than the query, on every case page."""
    stmt = _transfer_targets(case).order_by(OrgUnit.path)
    return list(db.session.execute(stmt).all())


def is_transfer_target(case: Case, unit_id: int) -> bool:
    """Whether the case may be sent to this unit: the same rule as the list offered, checked
    again on what was posted (a unit typed into the form is not a unit offered)."""
    stmt = _transfer_targets(case).where(OrgUnit.id == unit_id)
    return db.session.execute(stmt).first() is not None


def _transfer_targets(case: Case) -> sa.Select:
    province = province_of(case.org_unit)
    return sa.select(OrgUnit.id, OrgUnit.name).where(
        OrgUnit.id != case.org_unit_id,
        OrgUnit.is_retired.is_(False),
        # Cases live in provinces and below: the central unit is never a target.
        OrgUnit.level != OrgLevel.CENTRAL,
        sa.or_(
            OrgUnit.path.startswith(province.path, autoescape=True),
            OrgUnit.level == OrgLevel.PROVINCE,
        ),
    )


def assignable_users(actor: Actor, case: Case) -> list[User]:
    """Caseworkers and volunteers whose unit is on the case's unit path (above or at it)."""
    unit = db.session.get(OrgUnit, case.org_unit_id)
    ids = unit.path_ids if unit else []
    below = sa.select(OrgUnit.id).where(OrgUnit.path.startswith(unit.path, autoescape=True))
    return list(
        db.session.execute(
            sa.select(User)
            .where(
                User.is_enabled.is_(True),
                sa.or_(
                    sa.and_(User.role == Role.CASEWORKER, User.org_unit_id.in_(ids)),
                    sa.and_(User.role == Role.VOLUNTEER, User.org_unit_id.in_(below)),
                ),
            )
            .order_by(User.username)
        ).scalars()
    )


def case_access_history(case_code: str, limit: int, before: int | None = None) -> list:
    """Who viewed or changed the case, newest first: entries with occurred_at, username, role,
    action and seq (the event number `before` pages on)."""
    from app.audit.queries import case_access_history as audit_history

    return audit_history(case_code, limit=limit, before=before)


def break_glass_grants(case: Case) -> list[BreakGlassGrant]:
    """Every break-glass opening of the case, newest first (shown on its audit panel)."""
    return list(
        db.session.execute(
            sa.select(BreakGlassGrant)
            .where(BreakGlassGrant.case_id == case.id)
            .order_by(BreakGlassGrant.opened_at.desc())
        ).scalars()
    )


ATTENTION_AFTER_DAYS = 30
PER_PAGE = 25


def filtered_cases(
    actor: Actor,
    *,
    status: str | None = None,
    category: str | None = None,
    mine: bool = False,
    attention: bool = False,
) -> sa.Select:
    """The case list's filters, inside the actor's scope."""
    stmt = visible_cases(actor)
    if status:
        # Compared through coalesce (status is never NULL) so that no index on status is used:
        # a third of the country's cases are "open", and SQLite read all of them through that
        # index before looking at the scope (136 ms for a province at a million cases; 20 ms
        # walking the scope's own cases).
        stmt = stmt.where(sa.func.coalesce(Case.status, "") == status)
    # EXISTS, not IN: "the case has such a need" is a lookup by case for each case of the scope,
    # where IN made SQLite list every open need of the category in the country first (a fifth
    # of all needs: 112 ms for Hà Nội's list at 100,000 cases, 15 ms now).
    if category:
        stmt = stmt.where(
            sa.exists().where(
                Need.case_id == Case.id, Need.category == category, Need.status == NeedStatus.OPEN
            )
        )
    if mine:
        stmt = stmt.where(Case.assigned_to_id == actor.user_id)
    if attention:
        # Needs attention: not closed, not erased, and either an urgent open need or no change
        # for a month.
        stale = utcnow() - timedelta(days=ATTENTION_AFTER_DAYS)
        urgent = sa.exists().where(
            Need.case_id == Case.id,
            Need.priority == NeedPriority.HIGH,
            Need.status == NeedStatus.OPEN,
        )
        stmt = stmt.where(
            Case.status != "closed",
            Case.erased_at.is_(None),
            sa.or_(Case.updated_at < stale, urgent),
        )
    return stmt.order_by(Case.id.desc())


def search_cases(actor: Actor, term: str, limit: int = PER_PAGE) -> list[Case]:
    """Cases in scope whose code is the term, or whose name has every whole word of it (with
    or without diacritics), or whose phone or ID number is it: through the search tokens,
    decrypting nothing (app.cases.search)."""
    term = (term or "").strip()
    if not term:
        return []
    scope = visible_cases(actor)
    code = term.upper()
    if _CODE_SHAPE.match(code):  # a case code is nothing else
        ids = list(
            db.session.execute(scope.with_only_columns(Case.id).where(Case.code == code)).scalars()
        )
    else:
        ids = find_case_ids(probe_groups(term), scope=_search_scope(actor, scope), limit=limit)
    if not ids:
        return []
    stmt = (
        scope.where(Case.id.in_(ids))
        # The unit's name is on every row: loaded with the cases, not one round trip a row.
        .options(sa.orm.joinedload(Case.data_key), sa.orm.joinedload(Case.org_unit))
        .order_by(Case.id.desc())
        .limit(limit)
    )
    return list(db.session.execute(stmt).scalars())


def _search_scope(actor: Actor, scope: sa.Select) -> Scope:
    if actor.has_role(Role.CASEWORKER):
        # The walk keeps few candidates (her province's tokens of the rarest word): each is
        # tested on its own row. Tested against her subtree's units, PostgreSQL hashed every
        # case of her province first (21 of the search's 30 ms in Hà Nội at 1M cases). The
        # cases found are loaded through `visible_cases` again all the same.
        # Her subtree lies in her province (none above the provinces: every one is walked).
        return Scope(
            in_org_scope_row_by_row(Case.org_unit_id, actor),
            province_id=province_id_on_path(db.session.connection(), actor.org_path),
        )
    return Scope(scope.whereclause, is_own=True)  # a volunteer's own cases, an admin's grants


# The case list counts at most COUNT_CAP + 1 rows of its scope and filters ("hơn 1.000" beyond):
# an exact count of a province of a million cases on every page would cost more than the page.
COUNT_CAP = 1000


@dataclass(frozen=True)
class KeysetPage:
    """One page of the case list, newest first, reached by keyset (never OFFSET): `next_after`
    and `prev_before` are the case ids the neighbouring pages start after or before. `total`
    counts the scope up to COUNT_CAP; `is_capped` says there are more."""

    total: int
    is_capped: bool
    next_after: int | None
    prev_before: int | None


def capped_count(stmt: sa.Select, cap: int = COUNT_CAP) -> tuple[int, bool]:
    """Rows of `stmt` up to `cap`, and whether there are more; over ids only."""
    ids = stmt.with_only_columns(Case.id).order_by(None).limit(cap + 1).subquery()
    n = db.session.execute(sa.select(sa.func.count()).select_from(ids)).scalar_one()
    return min(n, cap), n > cap


def scope_units(actor: Actor) -> sa.Select | None:
    """The ids of the units a caseworker's list is made of (None for the others, whose cases
    are found by user or grant): `list_page` reads such a list unit by unit."""
    return org_subtree_ids(actor) if actor.has_role(Role.CASEWORKER) else None


def _page_ids(
    stmt: sa.Select, units: sa.Select | None, after: int | None, before: int | None, n: int
) -> sa.Subquery:
    """The ids of the page's `n` cases, newest first (oldest first when going back)."""
    ids = stmt.with_only_columns(Case.id)
    order = Case.id.desc()
    if before is not None:
        order = Case.id.asc()
        ids = ids.where(Case.id > before).order_by(None).order_by(order)
    elif after is not None:
        ids = ids.where(Case.id < after)
    if units is None or db.session.get_bind().dialect.name != "postgresql":
        return ids.limit(n).subquery()
    # PostgreSQL walks the primary key backwards and tests every case against the scope: a
    # province whose cases are the oldest (Hà Nội's, at a million cases) made it read most of
    # the country for one page (350 ms). Instead: the first n of each unit of the scope, each
    # read from the (org_unit_id, id) index, then the first n of those (a few ms per page).
    # SQLite plans the scope's own index already (its index on org_unit_id holds the id).
    unit = units.subquery()
    per_unit = ids.where(Case.org_unit_id == unit.c.id).limit(n).lateral()
    first = per_unit.c.id.asc() if before is not None else per_unit.c.id.desc()
    return (
        sa.select(per_unit.c.id)
        .select_from(unit)
        .join(per_unit, sa.true())
        .order_by(first)
        .limit(n)
        .subquery()
    )


def list_page(
    stmt: sa.Select,
    *,
    units: sa.Select | None = None,
    after: int | None = None,
    before: int | None = None,
    per_page: int = PER_PAGE,
) -> tuple[KeysetPage, list]:
    """A page of the case list as plain rows (id, code, status, is_restricted, opened_on,
    erased_at, full_name_enc, unit name, data key), newest first: the `per_page` cases after
    the id `after` (older), or before the id `before` (newer). One row more than shown tells
    whether the list goes on. Cases added meanwhile never shift a page: each case is shown
    exactly once while walking the pages. `units` (scope_units) are the units the scope is
    made of, when it is made of units.

    The data key is a plain row with the DataKey attributes `unseal` reads, not an ORM object:
    a commit cannot expire it, and loading it costs half as much."""
    from app.crypto.models import DataKey

    # The page's ids first, over the scope's index only; then their rows with unit and key (a
    # join in the same query makes SQLite read and sort the whole scope).
    ids = _page_ids(stmt, units, after, before, per_page + 1)
    rows_stmt = (
        sa.select(
            Case.id,
            Case.code,
            Case.status,
            Case.is_restricted,
            Case.opened_on,
            Case.erased_at,
            Case.full_name_enc,
            OrgUnit.name,
            sa.orm.Bundle(
                "data_key",
                DataKey.id,
                DataKey.wrapped_key,
                DataKey.master_version,
                DataKey.destroyed_at,
            ),
        )
        .join(ids, ids.c.id == Case.id)
        .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
        .outerjoin(DataKey, DataKey.id == Case.data_key_id)
        .order_by(Case.id.desc())
    )
    rows = list(db.session.execute(rows_stmt))
    more = len(rows) > per_page
    if before is not None:
        rows = rows[1:] if more else rows  # the extra row is the newest one
        has_newer, has_older = more, True
    else:
        rows = rows[:per_page]
        has_newer, has_older = after is not None, more
    if before is None and after is None and not more:
        total, capped = len(rows), False  # the whole list is on this page: no count needed
    else:
        total, capped = capped_count(stmt)
    page = KeysetPage(
        total=total,
        is_capped=capped,
        next_after=rows[-1][0] if rows and has_older else None,
        prev_before=rows[0][0] if rows and has_newer else None,
    )
    return page, rows


def list_page_cases(
    stmt: sa.Select,
    *,
    units: sa.Select | None = None,
    after: int | None = None,
    before: int | None = None,
    per_page: int = PER_PAGE,
) -> tuple[KeysetPage, list[Case]]:
    """`list_page` as Case objects with their unit and data key (the API's list): the same
    keyset, so no request counts or skips over the whole scope."""
    page, rows = list_page(stmt, units=units, after=after, before=before, per_page=per_page)
    ids = [row[0] for row in rows]
    found = {
        case.id: case
        for case in db.session.scalars(
            stmt.where(Case.id.in_(ids))
            .order_by(None)
            .options(sa.orm.selectinload(Case.data_key), sa.orm.selectinload(Case.org_unit))
        )
    }
    return page, [found[i] for i in ids if i in found]
