"""The central level (Trung ương Hội LHPN Việt Nam): one unit, at the top, with provinces under it;
and the ways an existing provincial deployment gets there (pages, `flask orgs add-central`)."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.orgs import services
from app.orgs.models import OrgLevel
from app.permissions import Actor
from tests.conftest import audit_actions
from tests.orgs.conftest import details, events, refusal, unit
from tests.orgs.factories import commune, district, province

CENTRAL_NAME = "Trung ương Hội LHPN Việt Nam"
ONLY_ONE = "cả nước chỉ có một đơn vị cấp này"


def _central(actor, code: str = "TW"):
    return services.create_org_unit(
        actor, code=code, name=CENTRAL_NAME, level=OrgLevel.CENTRAL, parent=None
    )


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


# ---------------------------------------------------------------- the rules


def test_the_central_unit_sits_at_the_top_with_provinces_under_it(world, admin_actor):
    central = _central(admin_actor)
    assert central.path == f"/{central.id}/" and central.parent is None
    hanam = services.create_org_unit(
        admin_actor, code="35", name="Tỉnh Hà Nam", level="province", parent=central
    )
    assert hanam.path == f"{central.path}{hanam.id}/"
    assert details(events("org.created")[0]) == {"level": "central", "parent": None}


def test_a_second_central_unit_is_refused(world, admin_actor):
    _central(admin_actor)
    with refusal(ONLY_ONE) as refused:
        _central(admin_actor, code="TW2")
    assert refused.value.field == "level" and "(TW)" in refused.value.message
    assert unit("TW2") is None


@pytest.mark.parametrize("parent_code", ["37", "37-A", "37-A1"])
def test_a_central_unit_under_anything_is_refused(world, admin_actor, parent_code):
    with refusal("không trực thuộc đơn vị nào"):
        services.create_org_unit(
            admin_actor, code="TW", name=CENTRAL_NAME, level="central", parent=unit(parent_code)
        )


@pytest.mark.parametrize("level", ["district", "commune", "ward"])
def test_only_provinces_sit_directly_under_the_central_unit(world, admin_actor, level):
    central = _central(admin_actor)
    with refusal("không thể trực thuộc đơn vị cấp Trung ương"):
        services.create_org_unit(admin_actor, code="X1", name="Đơn vị", level=level, parent=central)
    with refusal("không thể trực thuộc đơn vị cấp Trung ương"):
        services.move_org_unit(admin_actor, world.district_a, central)


def test_the_central_unit_cannot_be_moved_under_a_province(world, admin_actor):
    central = _central(admin_actor)
    other = province("35", "Tỉnh Hà Nam")
    with refusal("không trực thuộc đơn vị nào"):
        services.move_org_unit(admin_actor, central, other)


def test_only_an_admin_creates_it(world):
    from app.permissions import PermissionDenied

    with pytest.raises(PermissionDenied):
        _central(Actor.from_user(world.users["supervisor"]))


# ---------------------------------------------------------------- import and official list


def test_import_refuses_a_second_central_unit_line_by_line(world, admin_actor):
    _central(admin_actor)
    rows = [
        services.ImportRow(2, "TW2", "Trung ương khác", "central", ""),
        services.ImportRow(3, "35", "Tỉnh Hà Nam", "province", "TW"),
    ]
    errors = services.check_import(rows)
    assert [(e.line, ONLY_ONE in e.message) for e in errors] == [(2, True)]


def test_import_of_a_central_unit_and_its_provinces(world, admin_actor):
    rows = [
        services.ImportRow(2, "TW", CENTRAL_NAME, "central", ""),
        services.ImportRow(3, "35", "Tỉnh Hà Nam", "province", "TW"),
        services.ImportRow(4, "TW2", "Trung ương thứ hai", "central", ""),
    ]
    errors = services.check_import(rows)
    assert [e.line for e in errors] == [4] and ONLY_ONE in errors[0].message
    assert services.import_org_units(admin_actor, rows[:2]) == 2
    assert unit("35").path == f"{unit('TW').path}{unit('35').id}/"


def test_load_official_puts_a_new_province_under_the_central_unit(runner, world, admin_actor):
    central = _central(admin_actor)
    db.session.commit()
    result = runner.invoke(args=["orgs", "load-official", "--province", "1"])
    assert result.exit_code == 0, result.output
    hanoi = unit("01")
    assert hanoi.parent_id == central.id and hanoi.path.startswith(central.path)
    assert world.province.parent_id is None  # provinces already there are left as they are


# ---------------------------------------------------------------- flask orgs add-central


def test_add_central_moves_every_active_top_province_in_one_audited_transaction(runner, world):
    other = province("35", "Tỉnh Hà Nam")
    old = province("99", "Tỉnh Cũ")
    old.is_retired = True
    ward = commune("35-1", other, "Phường Một")
    db.session.commit()
    result = runner.invoke(
        args=["orgs", "add-central", "--code", "TW", "--name", CENTRAL_NAME],
    )
    assert result.exit_code == 0, result.output
    assert "chuyển 2 tỉnh/thành phố" in result.output
    central = unit("TW")
    assert central.level == "central"
    for code in ("37", "37-A", "37-B1", "35", "35-1"):
        assert unit(code).path.startswith(central.path), code
    assert unit("37-B1").path == f"{central.path}{world.province.id}/{world.district_b.id}/" + (
        f"{world.commune_b.id}/"
    )
    assert ward.path == f"{central.path}{other.id}/{ward.id}/"
    assert unit("99").parent_id is None  # retired: a retired unit is not moved
    moved = events("org.moved")
    assert sorted(details(e)["old_parent"] or "" for e in moved) == ["", ""]
    assert {details(e)["parent"] for e in moved} == {"TW"}
    assert {e.actor_username for e in moved} == {"cli"}
    assert audit_actions().count("org.created") == 1


def test_add_central_twice_is_refused(runner, world):
    first = runner.invoke(args=["orgs", "add-central", "--code", "TW", "--name", CENTRAL_NAME])
    assert first.exit_code == 0, first.output
    again = runner.invoke(args=["orgs", "add-central", "--code", "TW2", "--name", "Khác"])
    assert again.exit_code == 1 and ONLY_ONE in again.output
    assert unit("TW2") is None


def test_add_central_with_a_taken_code_changes_nothing(runner, world):
    result = runner.invoke(args=["orgs", "add-central", "--code", "37-A", "--name", CENTRAL_NAME])
    assert result.exit_code == 1 and "đã được dùng" in result.output
    assert world.province.parent_id is None and "org.moved" not in audit_actions()


# ---------------------------------------------------------------- the admin pages


def test_the_central_unit_through_the_pages(world, admin_client):
    response = admin_client.post(
        "/admin/org-units/new",
        data={"code": "TW", "name": CENTRAL_NAME, "level": "central", "parent": ""},
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    central = unit("TW")
    assert central.level == "central" and central.parent_id is None
    again = admin_client.post(
        "/admin/org-units/new",
        data={"code": "TW2", "name": "Trung ương khác", "level": "central", "parent": ""},
    )
    assert again.status_code == 400 and ONLY_ONE in again.get_data(as_text=True)
    under = admin_client.post(
        "/admin/org-units/new",
        data={"code": "TW3", "name": "Trung ương khác", "level": "central", "parent": "37"},
    )
    assert under.status_code == 400
    assert "không trực thuộc đơn vị nào" in under.get_data(as_text=True)
    assert unit("TW2") is None and unit("TW3") is None
    assert "Trung ương" in admin_client.get("/admin/org-units").get_data(as_text=True)


def test_moving_a_province_under_the_central_unit_through_the_pages(world, admin_client):
    central = _central(Actor.from_user(world.users["admin"]))
    db.session.commit()
    page = admin_client.get("/admin/org-units/37").get_data(as_text=True)
    assert 'value="TW"' in page and "cấp cao nhất" in page
    district_page = admin_client.get("/admin/org-units/37-A").get_data(as_text=True)
    assert 'value="TW"' not in district_page
    response = admin_client.post("/admin/org-units/37/move", data={"parent": "TW"})
    assert response.status_code == 302
    assert unit("37").path == f"{central.path}{world.province.id}/"
    assert unit("37-A1").path.startswith(unit("37").path)
    assert details(events("org.moved")[-1])["parent"] == "TW"
    refused = admin_client.post("/admin/org-units/37-A/move", data={"parent": "TW"})
    assert refused.status_code == 400
    assert "không thể trực thuộc đơn vị cấp Trung ương" in refused.get_data(as_text=True)


def test_a_large_national_tree_collapses_to_the_provinces(world, admin_client, monkeypatch):
    from app.orgs import routes

    monkeypatch.setattr(routes, "TREE_LIMIT", 3)
    central = _central(Actor.from_user(world.users["admin"]))
    services.move_org_unit(Actor.from_user(world.users["admin"]), world.province, central)
    district("35-A", province("35", "Tỉnh Hà Nam"))
    services.move_org_unit(Actor.from_user(world.users["admin"]), unit("35"), central)
    db.session.commit()
    html = admin_client.get("/admin/org-units").get_data(as_text=True)
    assert "Tỉnh Ninh Bình" in html and "Tỉnh Hà Nam" in html
    assert "Huyện A" not in html and "35-A" not in html
    under = admin_client.get("/admin/org-units?under=TW").get_data(as_text=True)
    assert "Tỉnh Hà Nam" in under and "35-A" not in under


# ---------------------------------------------------------------- who works at the central unit

CENTRAL_HOLDS_NO_CASES = "Cấp Trung ương không quản lý hồ sơ"


@pytest.mark.parametrize("role", ["caseworker", "volunteer"])
def test_no_case_holding_account_at_the_central_unit(world, admin_client, admin_actor, role):
    """A caseworker there would have every woman's case in the country in her scope."""
    from app.orgs.models import User
    from tests.orgs.conftest import NEW_PASSWORD, count

    _central(admin_actor)
    db.session.commit()
    before = count(User)
    response = admin_client.post(
        "/admin/users/new",
        data={
            "username": "tw.hoso",
            "role": role,
            "org_unit": "TW",
            "password": NEW_PASSWORD,
            "password_again": NEW_PASSWORD,
        },
    )
    assert response.status_code == 400
    assert CENTRAL_HOLDS_NO_CASES in response.get_data(as_text=True)
    assert count(User) == before and "user.created" not in audit_actions()
    supervisor = services.create_user(
        admin_actor,
        username="tw.giamsat",
        role="supervisor",
        org_unit=unit("TW"),
        password=NEW_PASSWORD,
    )
    with refusal(CENTRAL_HOLDS_NO_CASES):
        services.update_user(
            admin_actor, supervisor, display_name="", role=role, org_unit=unit("TW")
        )
    with refusal(CENTRAL_HOLDS_NO_CASES):
        services.update_user(
            admin_actor,
            world.users["caseworker"],
            display_name="",
            role="caseworker",
            org_unit=unit("TW"),
        )
