"""Scoped reads of org units and users.

Admins (and the command-line system actor) see every org unit and user; everyone else sees only
their own org unit and the units below it. Out of scope is 404, audited (`not_found`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.orgs import permissions
from app.orgs.models import ALLOWED_PARENT_LEVELS, OrgLevel, OrgUnit, User
from app.permissions import Actor, Role, not_found

USERS_PER_PAGE = 25


def _sees_everything(actor: Actor) -> bool:
    return actor.has_role(Role.ADMIN) or actor.is_system


def visible_org_units(actor: Actor) -> sa.Select:
    """The org units the actor may see: all for admins, else the actor's subtree."""
    stmt = sa.select(OrgUnit)
    if _sees_everything(actor):
        return stmt
    if not actor.org_path:
        return stmt.where(sa.false())
    return stmt.where(OrgUnit.path.startswith(actor.org_path, autoescape=True))


def find_org_unit(actor: Actor, code: str) -> OrgUnit | None:
    """The org unit with this official code when the actor may see it, else None (command line,
    form validation)."""
    return db.session.execute(
        visible_org_units(actor).where(OrgUnit.code == code)
    ).scalar_one_or_none()


def get_org_unit_or_404(actor: Actor, code: str) -> OrgUnit:
    """Like find_org_unit, but 404 (audited) when the actor may not see it."""
    unit = find_org_unit(actor, code)
    if unit is None:
        not_found(actor, "org_unit", code)
    return unit


def province_of(unit: OrgUnit) -> OrgUnit:
    """The province a unit belongs to (itself when it is one), found by level on its path: under
    a central unit the top of the path is no longer the province. A unit with no province above
    it (the central unit itself) answers the top of its path."""
    ids = unit.path_ids or [unit.id]
    if unit.level == OrgLevel.PROVINCE:
        return unit
    province = db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.id.in_(ids), OrgUnit.level == OrgLevel.PROVINCE)
    ).first()
    return province or db.session.get(OrgUnit, ids[0]) or unit


def province_id_on_path(conn: sa.Connection, path: str | None) -> int | None:
    """The id of the province on a unit's path (the unit itself when it is one), in one query
    when the path is at hand; None above the provinces (the central unit) or without a path."""
    ids = [int(part) for part in (path or "").strip("/").split("/") if part.isdigit()]
    if not ids:
        return None
    return conn.execute(
        sa.select(OrgUnit.id).where(OrgUnit.id.in_(ids), OrgUnit.level == OrgLevel.PROVINCE)
    ).scalar()


def provinces_of(conn: sa.Connection, unit_ids: Iterable[int]) -> dict[int, int]:
    """Org unit id -> the id of the province it lies in (its own for a province); a unit above
    the provinces (the central unit) has none."""
    ids = sorted(set(unit_ids))
    if not ids:
        return {}
    paths = {
        uid: [int(part) for part in path.strip("/").split("/") if part.isdigit()]
        for uid, path in conn.execute(
            sa.select(OrgUnit.id, OrgUnit.path).where(OrgUnit.id.in_(ids))
        )
    }
    on_paths = sorted({i for path in paths.values() for i in path})
    provinces = set(
        conn.execute(
            sa.select(OrgUnit.id).where(
                OrgUnit.id.in_(on_paths), OrgUnit.level == OrgLevel.PROVINCE
            )
        ).scalars()
    )
    out = {}
    for uid, path in paths.items():
        found = [i for i in path if i in provinces]
        if found:
            out[uid] = found[0]
    return out


# Vietnamese alphabetical order: ă, â after a; đ after d; ê after e; ô, ơ after o; ư after u.
_ALPHABET = "aăâbcdđeêfghijklmnoôơpqrstuưvwxyz"
_RANK = {letter: i for i, letter in enumerate(_ALPHABET)}
# Tones order words that are otherwise equal: none, huyền, hỏi, ngã, sắc, nặng.
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}


def sort_key(name: str) -> tuple:
    """Order names as a Vietnamese reader expects: "Xã An" < "Xã Ấp" < "Xã Dương" < "Xã Đông",
    "Phường 2" < "Phường 10"."""
    letters: list[list[str]] = []
    tones: list[int] = []
    for ch in unicodedata.normalize("NFD", name.casefold()):
        if unicodedata.combining(ch) and letters:
            if ch in _TONES:
                tones[-1] = _TONES[ch]
            else:
                letters[-1].append(ch)  # breve, circumflex, horn: part of the letter
            continue
        letters.append([ch])
        tones.append(0)
    primary: list[tuple[int, int]] = []
    number = ""
    for parts in letters:
        letter = unicodedata.normalize("NFC", "".join(parts))
        if letter.isdigit():
            number += letter
            continue
        if number:
            primary.append((-1, int(number)))
            number = ""
        if letter in _RANK:
            primary.append((0, _RANK[letter]))
        elif letter.isspace():
            primary.append((-2, 0))
        else:
            primary.append((1, ord(letter)))
    if number:
        primary.append((-1, int(number)))
    return (tuple(primary), tuple(tones), name)


@dataclass(frozen=True)
class TreeRow:
    unit: OrgUnit
    depth: int


def org_tree(
    actor: Actor, *, include_retired: bool = False, under: OrgUnit | None = None
) -> list[TreeRow]:
    """The visible units in tree order (each unit followed by its children, sorted by name).

    `under`: only that unit and its subtree.
    """
    stmt = visible_org_units(actor)
    if under is not None:
        stmt = stmt.where(OrgUnit.path.startswith(under.path, autoescape=True))
    if not include_retired:
        stmt = stmt.where(OrgUnit.is_retired.is_(False))
    units = list(db.session.execute(stmt).scalars())
    ids = {u.id for u in units}
    children: dict[int | None, list[OrgUnit]] = {}
    for unit in units:
        # A unit whose parent is not shown (out of scope or retired) is shown at the top.
        key = unit.parent_id if unit.parent_id in ids else None
        children.setdefault(key, []).append(unit)
    for siblings in children.values():
        siblings.sort(key=lambda u: sort_key(u.name))
    rows: list[TreeRow] = []
    stack = [(u, 0) for u in reversed(children.get(None, []))]
    while stack:
        unit, depth = stack.pop()
        rows.append(TreeRow(unit, depth))
        stack.extend((c, depth + 1) for c in reversed(children.get(unit.id, [])))
    return rows


def unit_choices(actor: Actor, *, for_level: str | None = None, exclude: OrgUnit | None = None):
    """(code, indented label) of active units, for select boxes.

    `for_level`: only units that may be the parent of a unit of that level.
    `exclude`: leave out this unit and its subtree (a unit cannot move under itself).
    """
    allowed = ALLOWED_PARENT_LEVELS.get(OrgLevel(for_level)) if for_level else None
    choices = []
    for row in org_tree(actor):
        unit = row.unit
        if exclude is not None and unit.path.startswith(exclude.path):
            continue
        if allowed is not None and OrgLevel(unit.level) not in allowed:
            continue
        choices.append((unit.code, "\u2003" * row.depth + f"{unit.name} ({unit.code})"))
    return choices


def child_counts(unit: OrgUnit) -> tuple[int, int]:
    """(active child units, enabled users) directly in this unit: what blocks retiring it."""
    children = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(OrgUnit)
        .where(OrgUnit.parent_id == unit.id, OrgUnit.is_retired.is_(False))
    )
    users = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(User)
        .where(User.org_unit_id == unit.id, User.is_enabled.is_(True))
    )
    return children or 0, users or 0


def visible_users(actor: Actor) -> sa.Select:
    """Users the actor may manage: all for admins, none for anyone else."""
    stmt = sa.select(User)
    return stmt if permissions.can_manage_users(actor) else stmt.where(sa.false())


def get_user_or_404(actor: Actor, user_id: int) -> User:
    user = db.session.execute(visible_users(actor).where(User.id == user_id)).scalar_one_or_none()
    if user is None:
        not_found(actor, "user", str(user_id))
    return user


def users_page(
    actor: Actor,
    *,
    role: str | None = None,
    org_unit: OrgUnit | None = None,
    page: int = 1,
    per_page: int = USERS_PER_PAGE,
):
    """One page of users, filtered by role and by org unit (the unit and every unit below it)."""
    stmt = visible_users(actor).join(User.org_unit)
    if role:
        stmt = stmt.where(User.role == role)
    if org_unit is not None:
        stmt = stmt.where(OrgUnit.path.startswith(org_unit.path, autoescape=True))
    stmt = stmt.order_by(User.username)
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
