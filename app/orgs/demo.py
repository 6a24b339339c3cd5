"""Demo province: two districts, five communes, one user per role."""

from __future__ import annotations

import sqlalchemy as sa

from app.auth.passwords import hash_password
from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit, User
from app.permissions import Role

PROVINCE = ("37", "Tỉnh Ninh Bình (demo)")
DISTRICTS = [
    ("37-D1", "Huyện Hoa Lư (demo)", [("37-C01", "Xã Ninh Hải"), ("37-C02", "Xã Trường Yên"),
                                      ("37-C03", "Phường Ninh Giang")]),
    ("37-D2", "Huyện Kim Sơn (demo)", [("37-C04", "Xã Kim Đông"), ("37-C05", "Xã Lai Thành")]),
]
# (username, role, org unit code)
USERS = [
    ("admin", Role.ADMIN, "37"),
    ("supervisor", Role.SUPERVISOR, "37"),
    ("caseworker", Role.CASEWORKER, "37-D1"),
    ("volunteer", Role.VOLUNTEER, "37-C01"),
    ("partner", Role.PARTNER, "37-D1"),
]


def _unit(code: str, name: str, level: OrgLevel, parent: OrgUnit | None) -> OrgUnit:
    unit = db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == code)).scalar_one_or_none()
    if unit is None:
        unit = OrgUnit(code=code, name=name, level=level, parent=parent)
        db.session.add(unit)
        db.session.flush()
        unit.path = (parent.path if parent else "/") + f"{unit.id}/"
    return unit


def seed(password: str) -> None:
    province = _unit(*PROVINCE, OrgLevel.PROVINCE, None)
    for code, name, communes in DISTRICTS:
        district = _unit(code, name, OrgLevel.DISTRICT, province)
        for c_code, c_name in communes:
            level = OrgLevel.WARD if c_name.startswith("Phường") else OrgLevel.COMMUNE
            _unit(c_code, c_name, level, district)
    for username, role, code in USERS:
        exists = db.session.execute(sa.select(User).where(User.username == username)).scalar()
        if exists is None:
            unit = db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == code)).scalar_one()
            db.session.add(User(username=username, display_name=username.title(), role=role,
                                org_unit=unit, password_hash=hash_password(password)))
    db.session.flush()
