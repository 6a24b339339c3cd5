"""Org units and users: the rules of the tree and of accounts, each action audited.

Services take the actor first, check the rule, change the objects, flush, record the audit event
and return; they never commit. A refused rule raises `OrgError` with a message for the user.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.auth.passwords import hash_password, password_problems
from app.auth.services import normalize_username
from app.auth.sessions import end_all_sessions
from app.db import utcnow
from app.extensions import db
from app.orgs import permissions
from app.orgs.models import ALLOWED_PARENT_LEVELS, OrgLevel, OrgUnit, User
from app.permissions import Actor, PermissionDenied, Role

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
NAME_MAX = 200
DISPLAY_NAME_MAX = 120

LEVEL_LABELS = {
    OrgLevel.PROVINCE: _l("tỉnh/thành phố"),
    OrgLevel.DISTRICT: _l("huyện"),
    OrgLevel.COMMUNE: _l("xã"),
    OrgLevel.WARD: _l("phường"),
}


class OrgError(Exception):
    """A rule refused the action. `message` is for the user; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(field or "org")  # never the message: it may quote what was typed
        self.message = str(message)
        self.field = field


def _require(predicate: Callable[[Actor], bool], actor: Actor) -> None:
    if not predicate(actor):
        raise PermissionDenied


def clean_text(value: str | None) -> str:
    """NFC (files from some systems carry decomposed Vietnamese), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())


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
    if level not in {lv.value for lv in OrgLevel}:
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
    if parent_level is None:
        return _("Chỉ tỉnh/thành phố mới được ở cấp cao nhất; hãy chọn đơn vị cấp trên.")
    return _(
        "Đơn vị cấp %(level)s không thể trực thuộc đơn vị cấp %(parent)s.",
        level=str(LEVEL_LABELS[OrgLevel(level)]),
        parent=str(LEVEL_LABELS[OrgLevel(parent_level)]),
    )


def _code_taken(code: str) -> bool:
    return db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code)) is not None


def _lock_tree(*units: OrgUnit | None) -> None:
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
    _require(permissions.can_manage_org_units, actor)
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
    _lock_tree(parent)
    if _code_taken(code):
        raise OrgError(_("Mã %(code)s đã được dùng cho một đơn vị khác.", code=code), "code")
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
    _require(permissions.can_manage_org_units, actor)
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
    _require(permissions.can_manage_org_units, actor)
    _lock_tree(unit, new_parent)
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


def retire_org_unit(actor: Actor, unit: OrgUnit) -> OrgUnit:
    """Retire a unit that has no active units and no enabled users; it stays for history."""
    from app.orgs.queries import child_counts

    _require(permissions.can_manage_org_units, actor)
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


@dataclass(frozen=True)
class ImportRow:
    line: int
    code: str
    name: str
    level: str
    parent_code: str


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


class ImportRefused(Exception):
    """At least one line is wrong: nothing was imported."""

    def __init__(self, errors: list[LineError]):
        super().__init__(f"{len(errors)} line(s) refused")
        self.errors = errors


def check_import(rows: Sequence[ImportRow], tick: Callable[[int], None] | None = None):
    """Every problem of every line (parents may be earlier in the file or in the database)."""
    existing = {
        code: (level, retired)
        for code, level, retired in db.session.execute(
            sa.select(OrgUnit.code, OrgUnit.level, OrgUnit.is_retired)
        )
    }
    later = {row.code: row.line for row in reversed(rows)}
    seen: dict[str, ImportRow] = {}
    errors: list[LineError] = []
    for row in rows:
        errors.extend(LineError(row.line, p) for p in _row_problems(row, existing, seen, later))
        if row.code and row.code not in seen:
            seen[row.code] = row
        if tick:
            tick(1)
    return errors


def _row_problems(row: ImportRow, existing, seen, later) -> list[str]:
    problems = [
        p for p in (code_problem(row.code), name_problem(row.name), level_problem(row.level)) if p
    ]
    if row.code in seen:
        problems.append(
            _("Mã %(code)s trùng với dòng %(line)d.", code=row.code, line=seen[row.code].line)
        )
    elif row.code in existing:
        problems.append(_("Mã %(code)s đã có trong hệ thống.", code=row.code))
    parent_level, parent_retired = None, False
    if row.parent_code:
        if row.parent_code in seen:
            parent_level = seen[row.parent_code].level
        elif row.parent_code in existing:
            parent_level, parent_retired = existing[row.parent_code]
        elif row.parent_code in later and row.parent_code != row.code:
            problems.append(
                _(
                    "Đơn vị cấp trên %(code)s nằm ở dòng %(line)d, phải đứng trước dòng này.",
                    code=row.parent_code,
                    line=later[row.parent_code],
                )
            )
            return problems
        else:
            problems.append(
                _("Không tìm thấy đơn vị cấp trên có mã %(code)s.", code=row.parent_code)
            )
            return problems
    if not level_problem(row.level) and (parent_level is None or not level_problem(parent_level)):
        problem = parent_problem(row.level, parent_level, parent_retired)
        if problem:
            problems.append(problem)
    return problems


def import_org_units(
    actor: Actor,
    rows: Sequence[ImportRow],
    *,
    via: str = "csv",
    tick: Callable[[int], None] | None = None,
) -> int:
    """All or nothing: every line is checked first; any error imports nothing."""
    _require(permissions.can_manage_org_units, actor)
    _lock_tree()
    errors = check_import(rows, tick)
    if errors:
        raise ImportRefused(errors)
    # code -> (id, path) of every possible parent: in the database, then as rows are inserted.
    known = {
        code: (unit_id, path)
        for code, unit_id, path in db.session.execute(
            sa.select(OrgUnit.code, OrgUnit.id, OrgUnit.path).where(
                OrgUnit.code.in_({r.parent_code for r in rows if r.parent_code})
            )
        )
    }
    # Insert generation by generation (a row's parent is in the database or in an earlier
    # generation), so each generation is one batched INSERT instead of one per row.
    generation: dict[str, int] = {}
    batches: list[list[ImportRow]] = []
    for row in rows:
        depth = generation.get(row.parent_code, -1) + 1 if row.parent_code else 0
        generation[row.code] = depth
        if depth == len(batches):
            batches.append([])
        batches[depth].append(row)
    created: list[OrgUnit] = []
    for batch in batches:
        units = [
            OrgUnit(
                code=r.code,
                name=r.name,
                level=r.level,
                path="",
                parent_id=known[r.parent_code][0] if r.parent_code else None,
            )
            for r in batch
        ]
        db.session.add_all(units)
        db.session.flush()
        for row, unit in zip(batch, units, strict=True):
            parent_path = known[row.parent_code][1] if row.parent_code else "/"
            unit.path = f"{parent_path}{unit.id}/"
            known[row.code] = (unit.id, unit.path)
            if tick:
                tick(1)
        created.extend(units)
    db.session.flush()
    audit.record(
        actor, "org.imported", object_type="org_unit", details={"count": len(created), "via": via}
    )
    return len(created)


# ---------------------------------------------------------------- users


def _check_display_name(display_name: str) -> str:
    display_name = clean_text(display_name)
    if len(display_name) > DISPLAY_NAME_MAX:
        raise OrgError(_("Tên hiển thị dài quá %(n)d ký tự.", n=DISPLAY_NAME_MAX), "display_name")
    return display_name


def _check_role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise OrgError(_("Vai trò không hợp lệ."), "role") from None


def _check_unit_for_user(unit: OrgUnit | None) -> OrgUnit:
    if unit is None:
        raise OrgError(_("Hãy chọn đơn vị."), "org_unit")
    if unit.is_retired:
        raise OrgError(_("Đơn vị này đã ngừng hoạt động; hãy chọn đơn vị khác."), "org_unit")
    return unit


def _check_password(password: str, username: str) -> None:
    problems = password_problems(password, username)
    if problems:
        raise OrgError(" ".join(problems), "password")


def create_user(
    actor: Actor,
    *,
    username: str,
    role: str,
    org_unit: OrgUnit | None,
    password: str,
    display_name: str = "",
) -> User:
    """Open an account in an active org unit, with a unique username and a policy password."""
    _require(permissions.can_manage_users, actor)
    username = normalize_username(username or "")
    if not USERNAME_RE.match(username):
        raise OrgError(
            _(
                "Tên đăng nhập gồm 3–64 ký tự: chữ không dấu, chữ số, dấu chấm, gạch "
                "ngang hoặc gạch dưới."
            ),
            "username",
        )
    if db.session.scalar(sa.select(User.id).where(User.username == username)) is not None:
        raise OrgError(_("Tên đăng nhập này đã được dùng."), "username")
    role = _check_role(role)
    org_unit = _check_unit_for_user(org_unit)
    display_name = _check_display_name(display_name) or username
    _check_password(password, username)
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        org_unit=org_unit,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        actor, "user.created", user, details={"role": str(role), "org_unit": org_unit.code}
    )
    return user


def update_user(
    actor: Actor, user: User, *, display_name: str, role: str, org_unit: OrgUnit | None
) -> list[str]:
    """Change display name, role or org unit; an admin cannot take away their own admin role."""
    _require(permissions.can_manage_users, actor)
    display_name = _check_display_name(display_name) or user.username
    role = _check_role(role)
    if org_unit is None or org_unit.id != user.org_unit_id:
        org_unit = _check_unit_for_user(org_unit)
    if user.id == actor.user_id and role is not Role(user.role):
        raise OrgError(_("Bạn không thể tự đổi vai trò của chính mình."), "role")
    changed, details = [], {}
    if display_name != user.display_name:
        changed.append("display_name")
        user.display_name = display_name
    if role != user.role:
        changed.append("role")
        details.update(old_role=str(user.role), role=str(role))
        user.role = role
    if org_unit.id != user.org_unit_id:
        changed.append("org_unit")
        details["org_unit"] = org_unit.code
        user.org_unit = org_unit
    if not changed:
        return changed
    db.session.flush()
    audit.record(actor, "user.updated", user, details={"changed_fields": changed, **details})
    return changed


def disable_user(actor: Actor, user: User) -> int:
    """Disable an account and end all its live sessions at once; never one's own account."""
    _require(permissions.can_manage_users, actor)
    if user.id == actor.user_id:
        raise OrgError(_("Bạn không thể tự khoá tài khoản của chính mình."))
    if not user.is_enabled:
        raise OrgError(_("Tài khoản này đã bị khoá từ trước."))
    user.is_enabled = False
    user.disabled_at = utcnow()
    ended = end_all_sessions(user, "disabled")
    db.session.flush()
    audit.record(actor, "user.disabled", user, details={"count": ended})
    return ended


def enable_user(actor: Actor, user: User) -> User:
    """Re-enable a disabled account whose org unit is still active."""
    _require(permissions.can_manage_users, actor)
    if user.is_enabled:
        raise OrgError(_("Tài khoản này đang hoạt động."))
    if user.org_unit.is_retired:
        raise OrgError(
            _(
                "Đơn vị của tài khoản đã ngừng hoạt động; hãy chuyển tài khoản sang "
                "đơn vị khác trước khi mở khoá."
            )
        )
    user.is_enabled = True
    user.disabled_at = None
    db.session.flush()
    audit.record(actor, "user.enabled", user)
    return user


def reset_password(actor: Actor, user: User, password: str) -> int:
    """Set a temporary password meeting the policy and end the user's sessions."""
    _require(permissions.can_manage_users, actor)
    if user.id == actor.user_id:
        raise OrgError(
            _("Hãy dùng trang “Đổi mật khẩu” để đổi mật khẩu của chính bạn."), "password"
        )
    _check_password(password, user.username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    ended = end_all_sessions(user, "password_reset")
    db.session.flush()
    audit.record(actor, "user.password_reset", user, details={"count": ended})
    return ended
