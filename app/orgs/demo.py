"""Demo province: two districts, five communes/wards, one user per role (idempotent)."""

from __future__ import annotations

import click
import sqlalchemy as sa

from app.auth.passwords import password_problems
from app.extensions import db
from app.orgs import services
from app.orgs.models import OrgLevel, OrgUnit, User
from app.permissions import Actor, Role

PROVINCE = ("37", "Tỉnh Ninh Bình (demo)")
DISTRICTS = [
    (
        "37-D1",
        "Huyện Hoa Lư (demo)",
        [
            ("37-C01", "Xã Ninh Hải", OrgLevel.COMMUNE),
            ("37-C02", "Xã Trường Yên", OrgLevel.COMMUNE),
            ("37-C03", "Phường Ninh Giang", OrgLevel.WARD),
        ],
    ),
    (
        "37-D2",
        "Huyện Kim Sơn (demo)",
        [
            ("37-C04", "Xã Kim Đông", OrgLevel.COMMUNE),
            ("37-C05", "Xã Lai Thành", OrgLevel.COMMUNE),
        ],
    ),
]
# (username, display name, role, org unit code)
USERS = [
    ("admin", "Quản trị (demo)", Role.ADMIN, "37"),
    ("supervisor", "Cán bộ giám sát (demo)", Role.SUPERVISOR, "37"),
    ("caseworker", "Cán bộ Hội (demo)", Role.CASEWORKER, "37-D1"),
    ("volunteer", "Tình nguyện viên (demo)", Role.VOLUNTEER, "37-C01"),
    ("partner", "Cơ sở dịch vụ (demo)", Role.PARTNER, "37-D1"),
    ("auditor", "Cán bộ thanh tra (demo)", Role.AUDITOR, "37"),
]


def _unit(actor: Actor, code: str, name: str, level: OrgLevel, parent: OrgUnit | None) -> OrgUnit:
    unit = db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == code)).scalar_one_or_none()
    if unit is None:
        unit = services.create_org_unit(actor, code=code, name=name, level=level, parent=parent)
    return unit


def seed(password: str, **kwargs) -> None:
    """Create what is missing; what exists (even if an admin changed it) is left alone."""
    problems = password_problems(password)
    if problems:
        raise click.ClickException(" ".join(problems))
    actor = Actor.system("demo")
    units = {PROVINCE[0]: _unit(actor, *PROVINCE, OrgLevel.PROVINCE, None)}
    for code, name, communes in DISTRICTS:
        units[code] = district = _unit(actor, code, name, OrgLevel.DISTRICT, units[PROVINCE[0]])
        for c_code, c_name, level in communes:
            units[c_code] = _unit(actor, c_code, c_name, level, district)
    for username, display_name, role, code in USERS:
        exists = db.session.execute(sa.select(User.id).where(User.username == username)).scalar()
        if exists is None:
            services.create_user(
                actor,
                username=username,
                role=role,
                org_unit=units[code],
                password=password,
                display_name=display_name,
            )
