"""The official list of provinces and communes/wards (PyPI package `vietnam-provinces`).

Since 1 July 2025 Vietnam has two levels: communes, wards and special zones sit directly under
one of 34 provinces. Codes are the statistics office's (province "37", ward "14464"). A province
is loaded under the central unit when there is one.
"""

from __future__ import annotations

import sqlalchemy as sa
from vietnam_provinces import Province, VietNamDivisionType, Ward

from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit
from app.orgs.services import ImportRow
from app.orgs.services.org_units import central_unit

_PROVINCE_PREFIX = {
    VietNamDivisionType.TINH: "Tỉnh",
    VietNamDivisionType.THANH_PHO_TRUNG_UONG: "Thành phố",
}


class UnknownProvince(LookupError):
    pass


def province_code(code: int | str) -> str:
    return f"{int(code):02d}"


def ward_code(code: int | str) -> str:
    return f"{int(code):05d}"


def _province_name(province: Province) -> str:
    prefix = _PROVINCE_PREFIX.get(province.division_type, "")
    if not prefix or province.name.startswith(prefix):
        return province.name
    return f"{prefix} {province.name}"


def _ward_level(ward: Ward) -> OrgLevel:
    # A special zone (đặc khu) is a commune-level unit.
    return OrgLevel.WARD if ward.division_type is VietNamDivisionType.PHUONG else OrgLevel.COMMUNE


def official_rows(code: str) -> list[ImportRow]:
    """Rows for the province (unless it is already in the database) and its missing communes.

    Units whose code is already in the database are left as they are: loading twice adds nothing.
    """
    try:
        province = Province.from_code(int(code))
    except ValueError:
        raise UnknownProvince(code) from None
    p_code = province_code(province.code)
    wards = sorted(Ward.iter_by_province(province.code), key=lambda w: int(w.code))
    codes = [p_code, *(ward_code(w.code) for w in wards)]
    existing = set(
        db.session.execute(sa.select(OrgUnit.code).where(OrgUnit.code.in_(codes))).scalars()
    )
    rows = []
    if p_code not in existing:
        # A national deployment keeps every province under its central unit.
        central = central_unit()
        parent = central.code if central is not None and not central.is_retired else ""
        rows.append(ImportRow(1, p_code, _province_name(province), OrgLevel.PROVINCE.value, parent))
    for line, ward in enumerate(wards, start=2):
        if ward_code(ward.code) not in existing:
            rows.append(
                ImportRow(line, ward_code(ward.code), ward.name, _ward_level(ward).value, p_code)
            )
    return rows


def official_ward_count(code: str) -> int:
    return sum(1 for _ in Ward.iter_by_province(int(code)))
