"""The org-unit tree: create, rename, move (with the whole subtree), retire."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.db import utcnow
from app.extensions import db
from app.orgs import permissions
from app.orgs.models import ALLOWED_PARENT_LEVELS, OrgLevel, OrgUnit
from app.orgs.services.common import OrgError, clean_text, require
from app.permissions import Actor

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
NAME_MAX = 200
LEVELS = frozenset(lv.value for lv in OrgLevel)

LEVEL_LABELS = {
    OrgLevel.CENTRAL: _l("Trung ương"),
    OrgLevel.PROVINCE: _l("tỉnh/thành phố"),
    OrgLevel.DISTRICT: _l("huyện"),
    OrgLevel.COMMUNE: _l("xã"),
    OrgLevel.WARD: _l("phường"),
}


# ---------------------------------------------------------------- checks shared with the import


def code_problem(code: str) -> str | None:
    if not code:
        return _("Mã đơn vị không được để trống.")
    if not CODE_RE.match(code):
        return _(
            "Mã đơn vị chỉ gồm chữ không dấu, chữ số, dấu gạch ngang, gạch dưới hoặc dấu chấm "
            "(tối đa 20 ký tự)."
        )
    return None


def name_problem(name: str) -> str | None:
    if not name:
        return _("Tên đơn vị không được để trống.")
    if len(name) > NAME_MAX:
        return _("Tên đơn vị dài quá %(n)d ký tự.", n=NAME_MAX)
    return None


def level_problem(level: str) -> str | None:
    if level not in LEVELS:
        return _(
            "Cấp đơn vị không hợp lệ: phải là một trong %(levels)s.",
            levels=", ".join(lv.value for lv in OrgLevel),
        )
    return None


def parent_problem(
    level: str, parent_level: str | None, parent_retired: bool = False
) -> str | None:
    """Why a unit of `level` may not sit under a parent of `parent_level` (None: at the top)."""
    if parent_retired:
        return _("Đơn vị cấp trên đã ngừng hoạt động.")
    allowed = ALLOWED_PARENT_LEVELS[OrgLevel(level)]
    if (OrgLevel(parent_level) if parent_level else None) in allowed:
        return None
    if level == OrgLevel.CENTRAL:
        return _("Đơn vị cấp Trung ương là cấp cao nhất, không trực thuộc đơn vị nào.")
    if parent_level is None:
        return _(
            "Chỉ Trung ương và tỉnh/thành phố mới được ở cấp cao nhất; hãy chọn đơn vị cấp trên."
        )
    return _(
        "Đơn vị cấp %(level)s không thể trực thuộc đơn vị cấp %(parent)s.",
        level=str(LEVEL_LABELS[OrgLevel(level)]),
        parent=str(LEVEL_LABELS[OrgLevel(parent_level)]),
    )


def _code_taken(code: str) -> bool:
    return db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code)) is not None


def central_unit() -> OrgUnit | None:
    """The one central unit, retired or not (a second one would split the country's figures)."""
    return db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.level == OrgLevel.CENTRAL).order_by(OrgUnit.id)
    ).first()


def second_central_problem(existing_code: str | None) -> str | None:
    """Why another central unit may not be added when `existing_code` is already one."""
    if existing_code is None:
        return None
    return _(
        "Đã có đơn vị cấp Trung ương (%(code)s); cả nước chỉ có một đơn vị cấp này.",
        code=existing_code,
    )


def lock_tree(*units: OrgUnit | None) -> None:
    """Serialize changes to the tree, then re-read the paths they build on.

    Paths are derived data: a unit created or moved under a parent that another transaction is
    moving at the same time would keep a stale path. SQLite already serializes writers (BEGIN
    IMMEDIATE); PostgreSQL takes a table lock that conflicts only with other writers.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(sa.text("LOCK TABLE org_units IN SHARE ROW EXCLUSIVE MODE"))
    for unit in units:
        if unit is not None and unit.id is not None:
            db.session.refresh(unit)


def _raise_first(*checks: tuple[str | None, str]) -> None:
    for problem, field in checks:
        if problem:
            raise OrgError(problem, field)


# ---------------------------------------------------------------- org units


def create_org_unit(
    actor: Actor, *, code: str, name: str, level: str, parent: OrgUnit | None
) -> OrgUnit:
    """Add a unit under a parent whose level allows it, with a code no other unit uses."""
    require(permissions.can_manage_org_units, actor)
    code, name, level = clean_text(code), clean_text(name), clean_text(level).lower()
    _raise_first(
        (code_problem(code), "code"), (name_problem(name), "name"), (level_problem(level), "level")
    )
    _raise_first(
        (
            parent_problem(
                level, parent.level if parent else None, bool(parent and parent.is_retired)
            ),
            "parent",
        )
    )
    lock_tree(parent)
    if _code_taken(code):
        raise OrgError(_("Mã %(code)s đã được dùng cho một đơn vị khác.", code=code), "code")
    if level == OrgLevel.CENTRAL:
        existing = central_unit()
        _raise_first((second_central_problem(existing.code if existing else None), "level"))
    unit = OrgUnit(code=code, name=name, level=level, parent=parent, path="")
    db.session.add(unit)
    db.session.flush()
    unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    db.session.flush()
    audit.record(
        actor,
        "org.created",
        unit,
        org_unit_id=unit.id,
        details={"level": level, "parent": parent.code if parent else None},
    )
    return unit


def rename_org_unit(actor: Actor, unit: OrgUnit, name: str) -> OrgUnit:
    """Give a unit a new name (its code, the official identifier, stays)."""
    require(permissions.can_manage_org_units, actor)
    name = clean_text(name)
    _raise_first((name_problem(name), "name"))
    if name == unit.name:
        raise OrgError(_("Tên mới giống tên hiện tại."), "name")
    unit.name = name
    db.session.flush()
    audit.record(
        actor, "org.renamed", unit, org_unit_id=unit.id, details={"changed_fields": ["name"]}
    )
    return unit


def move_org_unit(actor: Actor, unit: OrgUnit, new_parent: OrgUnit | None) -> int:
    """Re-parent a unit with its whole subtree; never under itself or an unfit level.

    Returns how many units changed path (the unit and everything below it).
    """
    require(permissions.can_manage_org_units, actor)
    lock_tree(unit, new_parent)
    if unit.is_retired:
        raise OrgError(_("Đơn vị đã ngừng hoạt động, không thể chuyển."), "parent")
    if new_parent is not None and new_parent.path.startswith(unit.path):
        raise OrgError(
            _("Không thể chuyển một đơn vị vào chính nó hoặc vào đơn vị cấp dưới của nó."),
            "parent",
        )
    if (new_parent.id if new_parent else None) == unit.parent_id:
        raise OrgError(_("Đơn vị đã trực thuộc đơn vị này."), "parent")
    _raise_first(
        (
            parent_problem(
                unit.level,
                new_parent.level if new_parent else None,
                bool(new_parent and new_parent.is_retired),
            ),
            "parent",
        )
    )
    old_parent, old_path = unit.parent, unit.path
    new_path = (new_parent.path if new_parent else "/") + f"{unit.id}/"
    # One statement rewrites the prefix of every path in the subtree.
    result = db.session.execute(
        sa.update(OrgUnit)
        .where(OrgUnit.path.startswith(old_path, autoescape=True))
        .values(path=sa.literal(new_path) + sa.func.substr(OrgUnit.path, len(old_path) + 1)),
        execution_options={"synchronize_session": "fetch"},
    )
    unit.parent = new_parent
    db.session.flush()
    db.session.refresh(unit)
    count = result.rowcount or 0
    audit.record(
        actor,
        "org.moved",
        unit,
        org_unit_id=unit.id,
        details={
            "parent": new_parent.code if new_parent else None,
            "old_parent": old_parent.code if old_parent else None,
            "count": count,
        },
    )
    return count


def add_central_unit(actor: Actor, *, code: str, name: str) -> tuple[OrgUnit, list[OrgUnit]]:
    """Put the one central unit above every active province at the top of the tree (a
    provincial deployment becoming national), each move audited; the caller commits once.

    Returns the central unit and the provinces moved under it. Retired provinces stay where
    they are: a retired unit cannot be moved.
    """
    central = create_org_unit(actor, code=code, name=name, level=OrgLevel.CENTRAL, parent=None)
    # From here each province's events go on in its own audit shard, not in the central unit's.
    audit.forget_central_unit(db.session.connection())
    provinces = list(
        db.session.scalars(
            sa.select(OrgUnit)
            .where(
                OrgUnit.parent_id.is_(None),
                OrgUnit.level == OrgLevel.PROVINCE,
                OrgUnit.is_retired.is_(False),
            )
            .order_by(OrgUnit.code)
        )
    )
    for province in provinces:
        move_org_unit(actor, province, central)
    return central, provinces


def retire_org_unit(actor: Actor, unit: OrgUnit) -> OrgUnit:
    """Retire a unit that has no active units and no enabled users; it stays for history."""
    from app.orgs.queries import child_counts

    require(permissions.can_manage_org_units, actor)
    if unit.is_retired:
        raise OrgError(_("Đơn vị này đã ngừng hoạt động từ trước."))
    children, users = child_counts(unit)
    if children:
        raise OrgError(
            _(
                "Chưa thể cho ngừng hoạt động: đơn vị còn %(n)d đơn vị cấp dưới đang hoạt động. "
                "Hãy chuyển hoặc cho ngừng hoạt động các đơn vị đó trước.",
                n=children,
            )
        )
    if users:
        raise OrgError(
            _(
                "Chưa thể cho ngừng hoạt động: đơn vị còn %(n)d người dùng đang hoạt động. "
                "Hãy chuyển họ sang đơn vị khác hoặc khoá tài khoản trước.",
                n=users,
            )
        )
    unit.is_retired = True
    unit.retired_at = utcnow()
    db.session.flush()
    audit.record(actor, "org.retired", unit, org_unit_id=unit.id)
    return unit
