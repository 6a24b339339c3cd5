from __future__ import annotations

import click
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth.passwords import verify_password
from app.extensions import db
from app.orgs import demo
from app.orgs.models import OrgUnit, User
from tests.orgs.conftest import count, unit

PASSWORD = "demo passphrase, kept by the tests"


def _snapshot():
    units = db.session.execute(
        sa.select(OrgUnit.code, OrgUnit.name, OrgUnit.level, OrgUnit.path, OrgUnit.is_retired)
    ).all()
    users = db.session.execute(
        sa.select(User.username, User.role, User.org_unit_id, User.password_hash)
    ).all()
    return sorted(units), sorted(users), count(AuditEvent)


def test_demo_province_and_one_user_per_role():
    demo.seed(PASSWORD)
    province = unit("37")
    districts = db.session.scalars(sa.select(OrgUnit).where(OrgUnit.level == "district")).all()
    communes = db.session.scalars(
        sa.select(OrgUnit).where(OrgUnit.level.in_(["commune", "ward"]))
    ).all()
    assert len(districts) == 2 and all(d.parent_id == province.id for d in districts)
    assert len(communes) == 5
    assert all(c.path.startswith(c.parent.path) and c.parent.level == "district" for c in communes)
    users = {u.username: u for u in db.session.scalars(sa.select(User))}
    assert {name: u.role for name, u in users.items()} == {
        "admin": "admin",
        "caseworker": "caseworker",
        "volunteer": "volunteer",
        "supervisor": "supervisor",
        "partner": "partner",
        "auditor": "auditor",
    }
    assert all(verify_password(u.password_hash, PASSWORD) for u in users.values())
    assert users["volunteer"].org_unit.level == "commune"


def test_demo_is_idempotent():
    demo.seed(PASSWORD)
    db.session.commit()
    first = _snapshot()
    demo.seed(PASSWORD)
    db.session.commit()
    assert _snapshot() == first
    demo.seed("a different demo passphrase")
    assert _snapshot() == first


def test_demo_refuses_a_weak_password():
    with pytest.raises(click.ClickException):
        demo.seed("short")
    assert count(OrgUnit) == 0 and count(User) == 0
