"""User accounts: create, edit, disable, re-enable, reset the password."""

from __future__ import annotations

import re

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit import services as audit
from app.auth.passwords import hash_password, password_problems
from app.auth.services import normalize_username
from app.auth.sessions import end_all_sessions, revoke_all_api_tokens
from app.db import utcnow
from app.extensions import db
from app.orgs import permissions
from app.orgs.models import OrgLevel, OrgUnit, User
from app.orgs.services.common import OrgError, clean_text, require
from app.permissions import Actor, Role

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
DISPLAY_NAME_MAX = 120


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


# Roles that hold cases (their whole unit's subtree): at the central unit that would be every
# woman's case in the country in one account. The central body supervises; cases are handled in
# the provinces and below.
CASE_HOLDING_ROLES = frozenset({Role.CASEWORKER, Role.VOLUNTEER})


def _check_role_at_unit(role: Role, unit: OrgUnit) -> None:
    if role in CASE_HOLDING_ROLES and unit.level == OrgLevel.CENTRAL:
        raise OrgError(
            _(
                "Cấp Trung ương không quản lý hồ sơ: cán bộ quản lý hồ sơ và tình nguyện viên "
                "thuộc một tỉnh, thành phố hoặc đơn vị cấp dưới."
            ),
            "role",
        )


def _check_password(password: str, username: str, display_name: str = "") -> None:
    problems = password_problems(password, username, display_name)
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
    require(permissions.can_manage_users, actor)
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
    _check_role_at_unit(role, org_unit)
    display_name = _check_display_name(display_name) or username
    _check_password(password, username, display_name)
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
    require(permissions.can_manage_users, actor)
    display_name = _check_display_name(display_name) or user.username
    role = _check_role(role)
    if org_unit is None or org_unit.id != user.org_unit_id:
        org_unit = _check_unit_for_user(org_unit)
    if user.id == actor.user_id and role is not Role(user.role):
        raise OrgError(_("Bạn không thể tự đổi vai trò của chính mình."), "role")
    _check_role_at_unit(role, org_unit)
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
    """Disable an account, end its sessions and revoke its API tokens for good; never one's own."""
    require(permissions.can_manage_users, actor)
    if user.id == actor.user_id:
        raise OrgError(_("Bạn không thể tự khoá tài khoản của chính mình."))
    if not user.is_enabled:
        raise OrgError(_("Tài khoản này đã bị khoá từ trước."))
    user.is_enabled = False
    user.disabled_at = utcnow()
    ended = end_all_sessions(user, "disabled")
    revoked = revoke_all_api_tokens(user)
    db.session.flush()
    audit.record(actor, "user.disabled", user, details={"count": ended, "tokens": revoked})
    return ended


def enable_user(actor: Actor, user: User) -> User:
    """Re-enable a disabled account whose org unit is still active."""
    require(permissions.can_manage_users, actor)
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
    require(permissions.can_manage_users, actor)
    if user.id == actor.user_id:
        raise OrgError(
            _("Hãy dùng trang “Đổi mật khẩu” để đổi mật khẩu của chính bạn."), "password"
        )
    _check_password(password, user.username, user.display_name)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()
    ended = end_all_sessions(user, "password_reset")
    db.session.flush()
    audit.record(actor, "user.password_reset", user, details={"count": ended})
    return ended
