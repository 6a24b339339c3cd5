from __future__ import annotations

import pytest

from app.extensions import db
from app.orgs.models import OrgUnit, User
from tests.conftest import audit_actions, sign_in
from tests.orgs.conftest import NEW_PASSWORD, count, events, unit, user

NON_ADMINS = ["caseworker", "supervisor", "volunteer", "partner"]


def _admin_urls(world):
    uid = world.users["volunteer"].id
    return [
        ("get", "/admin/org-units"),
        ("get", "/admin/org-units/new"),
        ("post", "/admin/org-units/new"),
        ("get", "/admin/org-units/37-A1"),
        ("post", "/admin/org-units/37-A1/rename"),
        ("post", "/admin/org-units/37-A1/move"),
        ("post", "/admin/org-units/37-A1/retire"),
        ("get", "/admin/users"),
        ("get", "/admin/users/new"),
        ("post", "/admin/users/new"),
        ("get", f"/admin/users/{uid}"),
        ("post", f"/admin/users/{uid}"),
        ("post", f"/admin/users/{uid}/disable"),
        ("post", f"/admin/users/{uid}/enable"),
        ("post", f"/admin/users/{uid}/reset-mfa"),
        ("get", f"/admin/users/{uid}/password"),
        ("post", f"/admin/users/{uid}/password"),
    ]


@pytest.mark.parametrize("role", NON_ADMINS)
def test_every_admin_page_refuses_other_roles_and_audits(world, login_as, role):
    client = login_as(world.users[role])
    names = {u.code: u.name for u in db.session.query(OrgUnit)}
    for method, url in _admin_urls(world):
        before = len(events("access.denied"))
        response = getattr(client, method)(url, data={"name": "Xã Bị Đổi", "confirm": "y"})
        assert response.status_code == 403, (method, url)
        assert len(events("access.denied")) == before + 1, (method, url)
    db.session.expire_all()
    assert {u.code: u.name for u in db.session.query(OrgUnit)} == names
    assert world.users["volunteer"].is_enabled


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get("/admin/org-units")
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


def test_admin_sees_every_page(world, admin_client):
    for method, url in _admin_urls(world):
        if method == "get":
            response = admin_client.get(url)
            assert response.status_code == 200, url
            assert "no-store" in response.headers["Cache-Control"]


def test_tree_is_indented_in_tree_order(world, admin_client):
    page = admin_client.get("/admin/org-units").get_data(as_text=True)
    order = [page.index(name) for name in ("Tỉnh Ninh Bình", "Huyện A", "Xã Ninh Hải", "Huyện B")]
    assert order == sorted(order)
    assert 'class="org-depth-2"' in page
    assert "style=" not in page and "<script>" not in page


def test_unknown_unit_is_404_and_audited(world, admin_client):
    assert admin_client.get("/admin/org-units/99-NOPE").status_code == 404
    assert events("access.denied")[-1].object_ref == "99-NOPE"


def test_home_shows_admin_panels_only_to_admins(app, world, admin_client):
    page = admin_client.get("/home").get_data(as_text=True)
    assert "Đơn vị" in page and "Người dùng" in page
    assert "/admin/org-units" in page and "/admin/users" in page
    other = app.test_client()
    sign_in(other, "caseworker")
    page = other.get("/home").get_data(as_text=True)
    assert "/admin/org-units" not in page


def test_english_translation(world, admin_client):
    admin_client.post("/language", data={"lang": "en", "next": "/admin/org-units"})
    page = admin_client.get("/admin/org-units").get_data(as_text=True)
    assert "Org units" in page and "Add org unit" in page


# ---------------------------------------------------------------- org-unit pages


def test_create_unit_through_the_form(world, admin_client):
    response = admin_client.post(
        "/admin/org-units/new",
        data={"code": "37-A2", "name": "Xã Trường Yên", "level": "commune", "parent": "37-A"},
    )
    assert response.status_code == 302
    created = unit("37-A2")
    assert created.parent_id == world.district_a.id
    assert created.path == f"{world.district_a.path}{created.id}/"
    assert "org.created" in audit_actions()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"code": "37-A", "name": "Xã Trùng", "level": "commune", "parent": "37"}, "đã được dùng"),
        ({"code": "37-X", "name": "", "level": "commune", "parent": "37"}, "Hãy nhập tên"),
        ({"code": "37-X", "name": "Xã X", "level": "commune", "parent": ""}, "cấp cao nhất"),
        ({"code": "37-X", "name": "Xã X", "level": "commune", "parent": "37-A1"}, "trực thuộc"),
        ({"code": "37-X", "name": "Xã X", "level": "village", "parent": "37"}, "Not a valid"),
        ({"code": "37-X", "name": "Xã X", "level": "commune", "parent": "00"}, "Not a valid"),
    ],
)
def test_create_bad_input_400_and_nothing_saved(world, admin_client, data, message):
    before = count(OrgUnit)
    response = admin_client.post("/admin/org-units/new", data=data)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Vui lòng sửa các mục được đánh dấu" in page
    if not message.startswith("Not a valid"):
        assert message in page
    assert count(OrgUnit) == before
    assert "org.created" not in audit_actions()


def test_rename_move_and_retire_through_the_pages(world, admin_client):
    response = admin_client.post("/admin/org-units/37-A1/rename", data={"name": "Xã Ninh Hải 2"})
    assert response.status_code == 302
    response = admin_client.post("/admin/org-units/37-A1/move", data={"parent": "37-B"})
    assert response.status_code == 302
    db.session.expire_all()
    moved = unit("37-A1")
    assert moved.name == "Xã Ninh Hải 2"
    assert moved.path == f"{world.district_b.path}{moved.id}/"
    admin_client.post(f"/admin/users/{world.users['volunteer'].id}/disable")
    response = admin_client.post("/admin/org-units/37-A1/retire", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert unit("37-A1").is_retired
    actions = audit_actions()
    assert {"org.renamed", "org.moved", "user.disabled", "org.retired"} <= set(actions)
    tree = admin_client.get("/admin/org-units").get_data(as_text=True)
    assert "Xã Ninh Hải 2" not in tree
    tree = admin_client.get("/admin/org-units?retired=1").get_data(as_text=True)
    assert "Xã Ninh Hải 2" in tree and "org-retired" in tree


def test_move_under_own_descendant_is_refused_on_the_page(world, admin_client):
    response = admin_client.post("/admin/org-units/37-A/move", data={"parent": "37-A1"})
    assert response.status_code == 400
    assert "cấp dưới của nó" in response.get_data(as_text=True)
    db.session.expire_all()
    assert unit("37-A").parent_id == world.province.id


def test_retire_refusal_has_a_clear_message(world, admin_client):
    response = admin_client.post("/admin/org-units/37-A/retire", data={"confirm": "y"})
    assert response.status_code == 400
    assert "đơn vị cấp dưới đang hoạt động" in response.get_data(as_text=True)
    response = admin_client.post("/admin/org-units/37-A/retire", data={})
    assert response.status_code == 400
    assert "Hãy đánh dấu xác nhận" in response.get_data(as_text=True)
    db.session.expire_all()
    assert not unit("37-A").is_retired
    assert "org.retired" not in audit_actions()


# ---------------------------------------------------------------- user pages


def test_user_list_filters_and_paginates(world, admin_client):
    from tests.factories import UserFactory

    for n in range(30):
        UserFactory(username=f"tnv{n:02d}", role="volunteer", org_unit=world.commune_b)
    db.session.commit()
    page = admin_client.get("/admin/users?role=volunteer&org_unit=37-B").get_data(as_text=True)
    assert "32 tài khoản" not in page and "31 tài khoản" in page
    assert "tnv00" in page and "tnv24" in page and "tnv25" not in page
    assert "Trang 1 / 2" in page
    second = admin_client.get("/admin/users?role=volunteer&org_unit=37-B&page=2")
    assert "tnv29" in second.get_data(as_text=True)
    page = admin_client.get("/admin/users?role=caseworker").get_data(as_text=True)
    assert "2 tài khoản" in page
    assert admin_client.get("/admin/users?role=boss").status_code == 400


def test_create_user_through_the_form(world, admin_client):
    data = {
        "username": "Can.Bo.Xa",
        "display_name": "Chị Hoa",
        "role": "caseworker",
        "org_unit": "37-A1",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
    }
    response = admin_client.post("/admin/users/new", data=data)
    assert response.status_code == 302
    created = user("can.bo.xa")
    assert created.org_unit_id == world.commune_a.id
    assert "user.created" in audit_actions()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short", "password_again": "short"}, "ít nhất 12 ký tự"),
        ({"password_again": "something else entirely"}, "không khớp"),
        ({"username": "caseworker"}, "đã được dùng"),
        ({"username": ""}, "Hãy nhập tên đăng nhập cho tài khoản"),
    ],
)
def test_create_user_bad_input(world, admin_client, changes, message):
    data = {
        "username": "newbie",
        "role": "volunteer",
        "org_unit": "37-A1",
        "password": NEW_PASSWORD,
        "password_again": NEW_PASSWORD,
        **changes,
    }
    before = count(User)
    response = admin_client.post("/admin/users/new", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(User) == before
    assert "user.created" not in audit_actions()


def test_edit_user(world, admin_client):
    target = world.users["volunteer"]
    response = admin_client.post(
        f"/admin/users/{target.id}",
        data={"display_name": "Người Mới", "role": "caseworker", "org_unit": "37-A"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (target.display_name, target.role, target.org_unit_id) == (
        "Người Mới",
        "caseworker",
        world.district_a.id,
    )
    assert "user.updated" in audit_actions()


def test_disabling_ends_the_live_session(app, world, admin_client):
    other = app.test_client()
    assert sign_in(other, "caseworker").status_code == 302
    assert other.get("/home").status_code == 200
    response = admin_client.post(f"/admin/users/{world.users['caseworker'].id}/disable")
    assert response.status_code == 302
    refused = other.get("/home")
    assert refused.status_code == 302 and "/auth/sign-in" in refused.headers["Location"]
    assert sign_in(other, "caseworker").status_code != 302
    assert events("user.disabled")[-1].object_ref == "caseworker"


def test_reenabled_user_can_sign_in_again(app, world, admin_client):
    uid = world.users["partner"].id
    admin_client.post(f"/admin/users/{uid}/disable")
    assert admin_client.post(f"/admin/users/{uid}/enable").status_code == 302
    assert sign_in(app.test_client(), "partner").status_code == 302


def test_admin_cannot_disable_themself(world, admin_client):
    response = admin_client.post(f"/admin/users/{world.users['admin'].id}/disable")
    assert response.status_code == 400
    assert "chính mình" in response.get_data(as_text=True)
    db.session.expire_all()
    assert world.users["admin"].is_enabled
    assert admin_client.get("/admin/users").status_code == 200


def test_reset_password_ends_sessions_and_sets_the_new_one(app, world, admin_client):
    other = app.test_client()
    assert sign_in(other, "volunteer").status_code == 302
    uid = world.users["volunteer"].id
    response = admin_client.post(
        f"/admin/users/{uid}/password",
        data={"password": NEW_PASSWORD, "password_again": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert other.get("/home").status_code == 302
    assert sign_in(other, "volunteer").status_code == 401
    assert sign_in(other, "volunteer", NEW_PASSWORD).status_code == 302
    assert "user.password_reset" in audit_actions()


def test_reset_password_refuses_a_weak_one(world, admin_client):
    target = world.users["volunteer"]
    old_hash = target.password_hash
    response = admin_client.post(
        f"/admin/users/{target.id}/password",
        data={"password": "password1234", "password_again": "password1234"},
    )
    assert response.status_code == 400
    assert "quá phổ biến" in response.get_data(as_text=True)
    db.session.expire_all()
    assert target.password_hash == old_hash


def test_a_large_tree_collapses_to_provinces(world, admin_client, monkeypatch):
    from app.orgs import routes

    monkeypatch.setattr(routes, "TREE_LIMIT", 3)
    page = admin_client.get("/admin/org-units").get_data(as_text=True)
    assert "Tỉnh Ninh Bình" in page and "Xã Ninh Hải" not in page
    assert "Có 5 đơn vị" in page
    assert "/admin/org-units?under=37" in page
    page = admin_client.get("/admin/org-units?under=37-A").get_data(as_text=True)
    assert "Xã Ninh Hải" in page and "Xã Kim Đông" not in page
    assert admin_client.get("/admin/org-units?under=NOPE").status_code == 404


def test_admin_turns_off_a_lost_second_factor(world, admin_client):
    from app.auth.models import RecoveryCode
    from app.db import utcnow

    target = world.users["caseworker"]
    target.mfa_secret = "JBSWY3DPEHPK3PXP"
    target.mfa_enrolled_at = utcnow()
    db.session.add(RecoveryCode(user_id=target.id, code_hash="x" * 64))
    db.session.commit()
    page = admin_client.get(f"/admin/users/{target.id}").get_data(as_text=True)
    assert f"/admin/users/{target.id}/reset-mfa" in page
    response = admin_client.post(f"/admin/users/{target.id}/reset-mfa", data={"confirm": "y"})
    assert response.status_code == 302
    db.session.expire_all()
    assert target.mfa_secret is None and target.mfa_enrolled_at is None
    assert db.session.query(RecoveryCode).filter_by(user_id=target.id).count() == 0
    assert "auth.mfa_reset" in audit_actions()
