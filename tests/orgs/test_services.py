from __future__ import annotations

import pytest

from app.auth import sessions
from app.auth.models import AuthSession
from app.auth.passwords import verify_password
from app.extensions import db
from app.orgs import services
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, PermissionDenied, Role
from tests.conftest import audit_actions
from tests.orgs.conftest import NEW_PASSWORD, count, details, events, refusal
from tests.orgs.factories import commune, district, province

# ---------------------------------------------------------------- create


def test_create_builds_paths_and_audits(admin_actor):
    top = services.create_org_unit(
        admin_actor, code="90", name="Tỉnh Mới", level="province", parent=None
    )
    mid = services.create_org_unit(
        admin_actor, code="90-1", name="Huyện Mới", level="district", parent=top
    )
    low = services.create_org_unit(
        admin_actor, code="90-1-1", name="Phường Mới", level="ward", parent=mid
    )
    direct = services.create_org_unit(
        admin_actor, code="90-2", name="Xã Trực Thuộc", level="commune", parent=top
    )
    assert top.path == f"/{top.id}/"
    assert low.path == f"/{top.id}/{mid.id}/{low.id}/"
    assert direct.path == f"/{top.id}/{direct.id}/"
    created = events("org.created")
    assert [e.object_ref for e in created] == ["90", "90-1", "90-1-1", "90-2"]
    assert details(created[2]) == {"level": "ward", "parent": "90-1"}
    assert created[2].org_unit_id == low.id


def test_create_normalizes_decomposed_vietnamese(admin_actor):
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "  Tỉnh   Hà Nam ")
    unit = services.create_org_unit(
        admin_actor, code="91", name=decomposed, level="PROVINCE", parent=None
    )
    assert unit.name == "Tỉnh Hà Nam"
    assert unit.level == "province"


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"code": "37", "level": "province"}, "code", "đã được dùng"),
        ({"code": "", "level": "province"}, "code", "không được để trống"),
        ({"code": "có dấu", "level": "province"}, "code", "chữ không dấu"),
        ({"code": "92", "name": "  ", "level": "province"}, "name", "không được để trống"),
        ({"code": "92", "level": "hamlet"}, "level", "không hợp lệ"),
        ({"code": "92", "level": "commune"}, "parent", "cấp cao nhất"),
        ({"code": "92", "level": "district", "parent": "37-A"}, "parent", "không thể trực thuộc"),
        ({"code": "92", "level": "commune", "parent": "37-A1"}, "parent", "không thể trực thuộc"),
        ({"code": "92", "level": "province", "parent": "37"}, "parent", "không thể trực thuộc"),
    ],
)
def test_create_refusals_change_nothing(admin_actor, kwargs, field, message):
    from tests.orgs.conftest import unit

    parent = unit(kwargs.pop("parent")) if "parent" in kwargs else None
    before = count(OrgUnit)
    with pytest.raises(services.OrgError) as refused:
        services.create_org_unit(
            admin_actor, name=kwargs.pop("name", "Đơn vị"), parent=parent, **kwargs
        )
    assert refused.value.field == field
    assert message in refused.value.message
    assert count(OrgUnit) == before
    assert "org.created" not in audit_actions()


def test_create_under_retired_parent_refused(admin_actor, world):
    gone = district("37-Z", world.province)
    services.retire_org_unit(admin_actor, gone)
    with refusal("ngừng hoạt động"):
        services.create_org_unit(
            admin_actor, code="37-Z1", name="Xã Z", level="commune", parent=gone
        )


@pytest.mark.parametrize("role", ["caseworker", "supervisor", "volunteer", "partner"])
def test_only_admins_manage_org_units(world, role):
    actor = Actor.from_user(world.users[role])
    with pytest.raises(PermissionDenied):
        services.create_org_unit(actor, code="93", name="Tỉnh", level="province", parent=None)
    with pytest.raises(PermissionDenied):
        services.rename_org_unit(actor, world.commune_a, "Xã Khác")
    with pytest.raises(PermissionDenied):
        services.retire_org_unit(actor, world.commune_a)


# ---------------------------------------------------------------- rename


def test_rename_keeps_code_and_audits(admin_actor, world):
    services.rename_org_unit(admin_actor, world.commune_a, "Xã  Ninh Hải Mới")
    assert world.commune_a.name == "Xã Ninh Hải Mới"
    assert world.commune_a.code == "37-A1"
    (event,) = events("org.renamed")
    assert event.object_ref == "37-A1"
    assert details(event) == {"changed_fields": ["name"]}
    assert "Ninh" not in event.details


def test_rename_refusals(admin_actor, world):
    with refusal("không được để trống"):
        services.rename_org_unit(admin_actor, world.commune_a, " ")
    with refusal("giống tên hiện tại"):
        services.rename_org_unit(admin_actor, world.commune_a, "Xã Ninh Hải")
    assert world.commune_a.name == "Xã Ninh Hải"


# ---------------------------------------------------------------- move


def test_move_rewrites_the_whole_subtree(admin_actor, world):
    other = province("38", "Tỉnh Khác")
    hamlet_parent = world.district_a
    second = commune("37-A2", hamlet_parent)
    untouched = world.commune_b.path
    count_moved = services.move_org_unit(admin_actor, world.district_a, other)
    db.session.expire_all()
    assert count_moved == 3
    assert world.district_a.parent_id == other.id
    assert world.district_a.path == f"{other.path}{world.district_a.id}/"
    assert world.commune_a.path == f"{world.district_a.path}{world.commune_a.id}/"
    assert second.path == f"{world.district_a.path}{second.id}/"
    assert world.commune_b.path == untouched
    (event,) = events("org.moved")
    assert details(event) == {"parent": "38", "old_parent": "37", "count": 3}


def test_move_commune_directly_under_province(admin_actor, world):
    services.move_org_unit(admin_actor, world.commune_a, world.province)
    db.session.expire_all()
    assert world.commune_a.path == f"{world.province.path}{world.commune_a.id}/"
    assert world.commune_a.depth == 1


def test_move_path_prefix_does_not_leak_to_lookalike_paths(admin_actor, world):
    # A unit whose path merely starts with the same characters is not in the subtree.
    other = province("39")
    lookalike = commune("39-X", other)
    lookalike.path = world.district_a.path[:-1] + "9/"
    db.session.flush()
    services.move_org_unit(admin_actor, world.district_a, other)
    db.session.expire_all()
    assert lookalike.path == world.province.path + str(world.district_a.id) + "9/"


@pytest.mark.parametrize(
    ("unit_attr", "target_attr", "message"),
    [
        ("district_a", "commune_a", "cấp dưới của nó"),
        ("district_a", "district_a", "cấp dưới của nó"),
        ("province", "commune_a", "cấp dưới của nó"),
        ("district_a", "district_b", "không thể trực thuộc"),
        ("commune_a", "commune_b", "không thể trực thuộc"),
        ("commune_a", "district_a", "đã trực thuộc"),
    ],
)
def test_move_refusals_change_nothing(admin_actor, world, unit_attr, target_attr, message):
    moving, target = getattr(world, unit_attr), getattr(world, target_attr)
    paths = {u.code: u.path for u in db.session.query(OrgUnit)}
    with pytest.raises(services.OrgError) as refused:
        services.move_org_unit(admin_actor, moving, target)
    assert message in refused.value.message
    db.session.expire_all()
    assert {u.code: u.path for u in db.session.query(OrgUnit)} == paths
    assert "org.moved" not in audit_actions()


def test_move_to_top_only_for_a_province(admin_actor, world):
    with refusal("cấp cao nhất"):
        services.move_org_unit(admin_actor, world.district_a, None)


def test_move_under_retired_unit_refused(admin_actor, world):
    gone = district("37-Z", world.province)
    services.retire_org_unit(admin_actor, gone)
    with refusal("ngừng hoạt động"):
        services.move_org_unit(admin_actor, world.commune_a, gone)


# ---------------------------------------------------------------- retire


def test_retire_refused_while_active_children(admin_actor, world):
    with pytest.raises(services.OrgError) as refused:
        services.retire_org_unit(admin_actor, world.district_b)
    assert "1 đơn vị cấp dưới đang hoạt động" in refused.value.message
    assert world.district_b.is_retired is False


def test_retire_refused_while_enabled_users(admin_actor, world):
    with pytest.raises(services.OrgError) as refused:
        services.retire_org_unit(admin_actor, world.commune_b)
    assert "1 người dùng đang hoạt động" in refused.value.message
    assert world.commune_b.is_retired is False
    assert "org.retired" not in audit_actions()


def test_retire_when_empty_keeps_the_unit(admin_actor, world):
    services.disable_user(admin_actor, world.users["volunteer_b"])
    services.disable_user(admin_actor, world.users["caseworker_b"])
    services.retire_org_unit(admin_actor, world.commune_b)
    services.retire_org_unit(admin_actor, world.district_b)
    db.session.expire_all()
    assert world.commune_b.is_retired and world.commune_b.retired_at is not None
    assert db.session.get(OrgUnit, world.commune_b.id) is not None
    assert [e.object_ref for e in events("org.retired")] == ["37-B1", "37-B"]
    with refusal("từ trước"):
        services.retire_org_unit(admin_actor, world.commune_b)


# ---------------------------------------------------------------- users


def test_create_user_normalizes_and_audits(admin_actor, world):
    created = services.create_user(
        admin_actor,
        username="  NguyenVanA ",
        role="caseworker",
        org_unit=world.commune_a,
        password=NEW_PASSWORD,
        display_name="Cán bộ xã",
    )
    assert created.username == "nguyenvana"
    assert verify_password(created.password_hash, NEW_PASSWORD)
    (event,) = events("user.created")
    assert event.object_ref == "nguyenvana"
    assert details(event) == {"role": "caseworker", "org_unit": "37-A1"}
    assert NEW_PASSWORD not in event.details


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"username": "ADMIN"}, "username"),
        ({"username": "x"}, "username"),
        ({"username": "có dấu"}, "username"),
        ({"role": "boss"}, "role"),
        ({"password": "short"}, "password"),
        ({"password": "password1234"}, "password"),
        ({"password": "newbie and more words"}, "password"),
    ],
)
def test_create_user_refusals(admin_actor, world, kwargs, field):
    values = {"username": "newbie", "role": "volunteer", "password": NEW_PASSWORD, **kwargs}
    before = count(User)
    with pytest.raises(services.OrgError) as refused:
        services.create_user(admin_actor, org_unit=world.commune_a, **values)
    assert refused.value.field == field
    assert count(User) == before


def test_create_user_in_retired_unit_refused(admin_actor, world):
    gone = district("37-Z", world.province)
    services.retire_org_unit(admin_actor, gone)
    with refusal("ngừng hoạt động"):
        services.create_user(
            admin_actor, username="newbie", role="volunteer", org_unit=gone, password=NEW_PASSWORD
        )


def test_update_user_records_changed_fields(admin_actor, world):
    target = world.users["volunteer"]
    changed = services.update_user(
        admin_actor, target, display_name="Tên Mới", role="caseworker", org_unit=world.district_a
    )
    assert changed == ["display_name", "role", "org_unit"]
    assert target.role == Role.CASEWORKER
    (event,) = events("user.updated")
    assert details(event) == {
        "changed_fields": ["display_name", "role", "org_unit"],
        "old_role": "volunteer",
        "role": "caseworker",
        "org_unit": "37-A",
    }
    assert "Tên" not in event.details
    again = services.update_user(
        admin_actor, target, display_name="Tên Mới", role="caseworker", org_unit=world.district_a
    )
    assert again == []
    assert len(events("user.updated")) == 1


def test_admin_cannot_change_own_role(admin_actor, world):
    with refusal("chính mình"):
        services.update_user(
            admin_actor,
            world.users["admin"],
            display_name="x",
            role="volunteer",
            org_unit=world.province,
        )
    assert world.users["admin"].role == Role.ADMIN


def _live_sessions(user) -> int:
    return (
        db.session.query(AuthSession)
        .filter(AuthSession.user_id == user.id, AuthSession.ended_at.is_(None))
        .count()
    )


def test_disable_ends_every_session(admin_actor, world):
    target = world.users["caseworker"]
    sessions.start_session(target)
    sessions.start_session(target)
    ended = services.disable_user(admin_actor, target)
    assert ended == 2
    assert _live_sessions(target) == 0
    assert target.is_enabled is False and target.disabled_at is not None
    (event,) = events("user.disabled")
    assert event.object_ref == "caseworker" and details(event) == {"count": 2, "tokens": 0}
    with refusal("từ trước"):
        services.disable_user(admin_actor, target)


def test_admin_cannot_disable_self(admin_actor, world):
    with refusal("chính mình"):
        services.disable_user(admin_actor, world.users["admin"])
    assert world.users["admin"].is_enabled


def test_enable_user(admin_actor, world):
    target = world.users["partner"]
    services.disable_user(admin_actor, target)
    services.enable_user(admin_actor, target)
    assert target.is_enabled and target.disabled_at is None
    assert audit_actions()[-2:] == ["user.disabled", "user.enabled"]
    with refusal("đang hoạt động"):
        services.enable_user(admin_actor, target)


def test_enable_refused_in_retired_unit(admin_actor, world):
    target = world.users["volunteer_b"]
    services.disable_user(admin_actor, target)
    services.retire_org_unit(admin_actor, world.commune_b)
    with refusal("ngừng hoạt động"):
        services.enable_user(admin_actor, target)


def test_reset_password_ends_sessions(admin_actor, world):
    target = world.users["volunteer"]
    sessions.start_session(target)
    ended = services.reset_password(admin_actor, target, NEW_PASSWORD)
    assert ended == 1
    assert _live_sessions(target) == 0
    assert verify_password(target.password_hash, NEW_PASSWORD)
    (event,) = events("user.password_reset")
    assert details(event) == {"count": 1}


def test_reset_password_policy_and_self(admin_actor, world):
    target = world.users["volunteer"]
    old_hash = target.password_hash
    with pytest.raises(services.OrgError) as refused:
        services.reset_password(admin_actor, target, "short")
    assert "12 ký tự" in refused.value.message
    with pytest.raises(services.OrgError):
        services.reset_password(admin_actor, world.users["admin"], NEW_PASSWORD)
    assert target.password_hash == old_hash
    assert "user.password_reset" not in audit_actions()
