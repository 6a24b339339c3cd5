"""The org tree's stamp changes with every write to org_units, whoever writes, and the reports
keep their tree between requests only while it is unchanged (app/orgs/tree_stamp.py)."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.orgs.models import OrgLevel, OrgUnit
from app.orgs.services import (
    create_org_unit,
    move_org_unit,
    rename_org_unit,
    retire_org_unit,
)
from app.orgs.tree_stamp import current_stamp
from app.reports.layout import Tree


def _stamp() -> int | None:
    return current_stamp(db.session.connection())


def _changes_stamp(write) -> bool:
    before = _stamp()
    write()
    db.session.commit()
    return _stamp() != before


def test_every_kind_of_write_to_the_tree_changes_the_stamp(world, admin_actor):
    assert _stamp() is not None
    made = []
    assert _changes_stamp(
        lambda: made.append(
            create_org_unit(
                admin_actor,
                code="37-A2",
                name="Xã Mới",
                level=OrgLevel.COMMUNE,
                parent=world.district_a,
            )
        )
    )
    assert _changes_stamp(lambda: rename_org_unit(admin_actor, made[0], "Xã Mới Hơn"))
    assert _changes_stamp(lambda: move_org_unit(admin_actor, made[0], world.district_b))
    assert _changes_stamp(lambda: retire_org_unit(admin_actor, made[0]))
    # Writes that bypass the ORM's objects: a Core UPDATE (as add-central moves every path) and
    # a statement typed by hand.
    assert _changes_stamp(
        lambda: db.session.execute(
            sa.update(OrgUnit).where(OrgUnit.id == made[0].id).values(name="Xã Khác")
        )
    )
    assert _changes_stamp(
        lambda: db.session.execute(
            sa.text("DELETE FROM org_units WHERE id = :id"), {"id": made[0].id}
        )
    )


def test_reading_the_tree_leaves_the_stamp(world):
    before = _stamp()
    db.session.execute(sa.select(OrgUnit)).all()
    db.session.commit()
    assert _stamp() == before


def test_a_report_keeps_its_tree_until_the_tree_changes(world, admin_actor):
    kept = Tree.of(world.province)
    assert Tree.of(world.province) is kept
    rename_org_unit(admin_actor, world.district_a, "Huyện An Bình")
    db.session.commit()
    fresh = Tree.of(world.province)
    assert fresh is not kept
    assert fresh.units[world.district_a.id].name == "Huyện An Bình"


def test_the_dashboard_shows_a_renamed_unit_at_once(client, world, login_as, admin_actor):
    login_as(world.users["supervisor"])
    body = client.get("/reports/").get_data(as_text=True)
    assert "Huyện A" in body and "Huyện An Bình" not in body
    rename_org_unit(admin_actor, world.district_a, "Huyện An Bình")
    db.session.commit()
    body = client.get("/reports/").get_data(as_text=True)
    assert "Huyện An Bình" in body
