from __future__ import annotations

import pytest
from werkzeug.exceptions import NotFound

from app.orgs import queries
from app.permissions import Actor
from tests.orgs.conftest import events


def test_admin_sees_every_unit(world, admin_actor):
    codes = [row.unit.code for row in queries.org_tree(admin_actor)]
    assert codes == ["37", "37-A", "37-A1", "37-B", "37-B1"]
    assert queries.get_org_unit_or_404(admin_actor, "37-B1") is world.commune_b


def test_others_see_their_subtree_only(world):
    caseworker = Actor.from_user(world.users["caseworker"])
    assert [r.unit.code for r in queries.org_tree(caseworker)] == ["37-A", "37-A1"]
    assert queries.get_org_unit_or_404(caseworker, "37-A1") is world.commune_a
    with pytest.raises(NotFound):
        queries.get_org_unit_or_404(caseworker, "37-B1")
    denial = events("access.denied")[-1]
    assert (denial.object_type, denial.object_ref, denial.outcome) == (
        "org_unit",
        "37-B1",
        "denied",
    )
    with pytest.raises(NotFound):
        queries.get_org_unit_or_404(caseworker, "37")


def test_only_admins_see_users(world, admin_actor):
    volunteer = world.users["volunteer"]
    assert queries.get_user_or_404(admin_actor, volunteer.id) is volunteer
    with pytest.raises(NotFound):
        queries.get_user_or_404(Actor.from_user(world.users["caseworker"]), volunteer.id)


def test_choices_for_a_move_leave_out_the_subtree_and_unfit_levels(world, admin_actor):
    codes = [c for c, _ in queries.unit_choices(admin_actor, for_level="district")]
    assert codes == ["37"]
    codes = [
        c
        for c, _ in queries.unit_choices(admin_actor, for_level="commune", exclude=world.commune_a)
    ]
    assert codes == ["37", "37-A", "37-B"]
    assert queries.unit_choices(admin_actor, exclude=world.province) == []


def test_vietnamese_names_sort_as_readers_expect():
    expected = [
        "Phường 2",
        "Phường 10",
        "Xã An",
        "Xã Anh",
        "Xã Ấn",
        "Xã Ấp",
        "Xã Dương",
        "Xã Đông",
        "Xã Ơn",
        "Xã Yên",
    ]
    shuffled = expected[::-1]
    assert sorted(shuffled, key=queries.sort_key) == expected
