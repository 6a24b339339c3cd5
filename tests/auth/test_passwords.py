"""The password policy and the page where users change their own password."""

from __future__ import annotations

from importlib import resources

import pytest

from app.auth import passwords
from app.auth.passwords import common_passwords, password_problems
from app.extensions import db
from tests.auth.conftest import current_auth_session, live_sessions
from tests.conftest import audit_actions, sign_in
from tests.factories import PASSWORD

NEW = "ba con mèo ngủ trên mái nhà"


def _change(client, current=PASSWORD, new=NEW, confirm=None):
    return client.post(
        "/auth/password",
        data={"current_password": current, "new_password": new, "confirm": confirm or new},
    )


# The policy.


def test_common_password_list_is_real_and_has_no_comment_lines(app):
    listed = common_passwords()
    assert len(listed) > 10000
    assert not any(p.startswith("#") for p in listed)
    text = resources.files("app.auth").joinpath("data/common_passwords.txt").read_text("utf-8")
    assert text.startswith("#") and "zxcvbn" in text.splitlines()[1]


@pytest.mark.parametrize(
    "password",
    [
        "1qaz2wsx3edc",  # from the zxcvbn list
        "qwertyuiop123",
        "Matkhau123456",
        "Mật khẩu 123456".replace(" ", ""),  # the same with diacritics
        "anhyeuem123456",
        "ninhbinh2026",
        "123456789abc",
    ],
)
def test_common_passwords_are_refused(app, password):
    with app.test_request_context():
        assert passwords.is_common(password), password
        problems = password_problems(password + ("x" * max(0, 12 - len(password))), "someone")
    if len(password) >= 12:
        assert any("quá phổ biến" in p for p in problems)


def test_short_password_is_refused_with_the_minimum(app):
    with app.test_request_context():
        problems = password_problems("short pw 11")
    assert problems == ["Mật khẩu phải có ít nhất 12 ký tự."]


def test_password_may_not_contain_the_username(app):
    with app.test_request_context():
        problems = password_problems("my name is Nguyễn Văn A, I grow rice", "nguyenvan")
        assert problems == []
        problems = password_problems("hello-caseworker-2026", "caseworker")
    assert problems[-1] == "Mật khẩu không được chứa tên đăng nhập."


def test_long_unusual_passphrase_is_accepted_without_composition_rules(app):
    with app.test_request_context():
        assert password_problems("ba con mèo ngủ trên mái nhà", "caseworker") == []
        assert password_problems("x" * 12) != []  # one repeated character
        assert password_problems("correct horse battery staple") == []


def test_password_hash_is_argon2id(world):
    assert world.users["caseworker"].password_hash.startswith("$argon2id$")


def test_no_forced_rotation_setting_exists(app):
    assert not any("PASSWORD_MAX_AGE" in k or "PASSWORD_EXPIRY" in k for k in app.config)


# The change page.


def test_change_page_is_for_signed_in_users(client, world):
    assert "/auth/sign-in" in client.get("/auth/password").headers["Location"]


def test_change_password_success(client, world, login_as, app):
    user = world.users["caseworker"]
    login_as(user)
    current = current_auth_session(client)
    other = app.test_client()
    sign_in(other, "caseworker")
    assert len(live_sessions(user)) == 2

    page = client.get("/auth/password")
    assert page.status_code == 200
    assert 'autocomplete="new-password"' in page.get_data(as_text=True)
    response = _change(client)
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert "Đã đổi mật khẩu" in client.get("/home").get_data(as_text=True)
    assert "auth.password_changed" in audit_actions()

    # This browser stays signed in; the other one is signed out.
    assert [s.id for s in live_sessions(user)] == [current.id]
    assert client.get("/home").status_code == 200
    assert "/auth/sign-in" in other.get("/home").headers["Location"]
    # The new password works and the old one no longer does.
    assert sign_in(app.test_client(), "caseworker", NEW).status_code == 302
    assert sign_in(app.test_client(), "caseworker", PASSWORD).status_code == 401


def test_wrong_current_password_is_refused(client, world, login_as):
    login_as(world.users["caseworker"])
    response = _change(client, current="not my password")
    assert response.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
    db.session.refresh(world.users["caseworker"])
    assert passwords.verify_password(world.users["caseworker"].password_hash, PASSWORD)


@pytest.mark.parametrize(
    ("new", "confirm", "message"),
    [
        ("short one", None, "Mật khẩu phải có ít nhất 12 ký tự."),
        ("password1234", None, "Mật khẩu này quá phổ biến"),
        ("matkhau@123456", None, "Mật khẩu này quá phổ biến"),
        ("caseworker is me 2026", None, "Mật khẩu không được chứa tên đăng nhập."),
        (NEW, "something else entirely", "Hai lần nhập mật khẩu mới không khớp nhau."),
        (PASSWORD, None, "Mật khẩu mới phải khác mật khẩu hiện tại."),
        ("", None, "Hãy nhập mật khẩu mới."),
    ],
)
def test_policy_is_enforced_with_clear_messages(client, world, login_as, new, confirm, message):
    login_as(world.users["caseworker"])
    response = _change(client, new=new, confirm=confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.refresh(world.users["caseworker"])
    assert passwords.verify_password(world.users["caseworker"].password_hash, PASSWORD)
    assert audit_actions().count("auth.password_changed") == 0


def test_wrong_current_passwords_are_throttled(client, world, login_as):
    login_as(world.users["caseworker"])
    for _ in range(5):
        assert _change(client, current="guess number n").status_code == 400
    assert _change(client).status_code == 429
    assert "auth.throttled" in audit_actions()
