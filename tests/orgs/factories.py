"""Org-unit trees for the orgs tests, built on the shared factories."""

from __future__ import annotations

from app.orgs.models import OrgLevel
from tests.factories import OrgUnitFactory


def province(code: str, name: str = "Tỉnh Thử"):
    return OrgUnitFactory(code=code, name=name, level=OrgLevel.PROVINCE)


def district(code: str, parent, name: str = "Huyện Thử"):
    return OrgUnitFactory(code=code, name=name, level=OrgLevel.DISTRICT, parent=parent)


def commune(code: str, parent, name: str = "Xã Thử"):
    return OrgUnitFactory(code=code, name=name, level=OrgLevel.COMMUNE, parent=parent)
