"""The idle time-out that loses nothing: warning figures, keep-alive, longer limit on intake and
note pages, and signing in again on the same page as the same user only (issue #13, point 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import utcnow
from app.extensions import db
from tests.auth.conftest import cookie_session, current_auth_session, enrol, totp_code
from tests.conftest import audit_actions
from tests.factories import PASSWORD

JSON = {"Accept": "application/json"}


def _idle_for(client, delta: timedelta):
    auth_session = current_auth_session(client)
    auth_session.last_seen_at = utcnow() - delta
    db.session.commit()
    return auth_session


def _state(client) -> dict:
    return client.get("/auth/session", headers=JSON).get_json()


def test_the_page_gets_its_timer_and_the_dialogs(client, world, login_as):
    login_as(world.users["caseworker"])
    html = client.get("/home").get_data(as_text=True)
    assert 'data-idle="' in html and 'data-warn="120"' in html
    assert "data-long-form" not in html
    assert "Tiếp tục làm việc" in html and 'id="resume-dialog"' in html


def test_asking_for_the_state_does_not_extend_the_session(client, world, login_as, app):
    login_as(world.users["caseworker"])
    auth_session = _idle_for(client, timedelta(minutes=10))
    before = auth_session.last_seen_at
    state = _state(client)
    assert state["alive"] is True and 4 * 60 <= state["idle"] <= 5 * 60
    db.session.refresh(auth_session)
    assert auth_session.last_seen_at == before
    _idle_for(client, app.config["SESSION_IDLE_TIMEOUT"] + timedelta(seconds=5))
    assert _state(client)["alive"] is False
    assert "auth.session_expired" in audit_actions()


def test_continue_working_starts_the_idle_limit_again(client, world, login_as):
    login_as(world.users["caseworker"])
    _idle_for(client, timedelta(minutes=14))
    csrf = _state(client)["csrf"]
    answer = client.post("/auth/keep-alive", headers={**JSON, "X-CSRFToken": csrf}).get_json()
    assert answer["alive"] is True and answer["idle"] > 14 * 60
    assert _state(client)["idle"] > 14 * 60


def test_keep_alive_after_the_limit_is_refused_in_json(client, world, login_as, app):
    login_as(world.users["caseworker"])
    _idle_for(client, app.config["SESSION_IDLE_TIMEOUT"] + timedelta(minutes=1))
    response = client.post("/auth/keep-alive", headers=JSON)
    assert response.status_code == 401 and response.get_json() == {"error": "unauthorized"}


def test_intake_and_note_pages_have_the_longer_limit(client, world, login_as, app):
    assert app.config["SESSION_FORM_IDLE_TIMEOUT"] == timedelta(minutes=60)
    login_as(world.users["caseworker"])
    html = client.get("/cases/new").get_data(as_text=True)
    assert "data-long-form" in html
    _idle_for(client, timedelta(minutes=40))  # an interview, longer than 15 minutes
    assert _state(client)["alive"] is True
    assert client.get("/home").status_code == 200  # she saved and moved on
    _idle_for(client, timedelta(minutes=16))  # elsewhere the usual 15 minutes
    assert _state(client)["alive"] is False


def test_the_consent_page_has_the_longer_limit(client, world, login_as, app):
    """Another consent is asked while talking with her, like the intake: the page she reads
    from does not sign the caseworker out after 15 minutes."""
    from tests.cases.conftest import open_case

    case = open_case(world.users["caseworker"], world.commune_a)
    login_as(world.users["caseworker"])
    html = client.get(f"/cases/{case.code}/consents").get_data(as_text=True)
    assert "data-long-form" in html
    _idle_for(client, timedelta(minutes=40))
    assert _state(client)["alive"] is True


def test_the_absolute_limit_still_holds_on_long_pages(client, world, login_as, app):
    login_as(world.users["caseworker"])
    client.get("/cases/new")
    auth_session = current_auth_session(client)
    auth_session.created_at = utcnow() - app.config["SESSION_ABSOLUTE_TIMEOUT"] - timedelta(1)
    db.session.commit()
    assert _state(client)["alive"] is False


def _expire(client, app):
    _idle_for(client, app.config["SESSION_IDLE_TIMEOUT"] + timedelta(minutes=1))
    return _state(client)["csrf"]


def _resume(client, csrf, username, password=PASSWORD):
    return client.post(
        "/auth/resume",
        data={"username": username, "password": password},
        headers={**JSON, "X-CSRFToken": csrf},
    )


def test_signing_in_again_as_the_same_user_resumes_on_the_page(client, world, login_as, app):
    login_as(world.users["caseworker"])
    old_token = cookie_session(client)["_user_id"]
    csrf = _expire(client, app)
    response = _resume(client, csrf, "caseworker")
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["alive"] is True and answer["user"] == "caseworker"
    assert cookie_session(client)["_user_id"] != old_token  # a new session id
    assert _state(client)["alive"] is True
    assert audit_actions()[-1] == "auth.sign_in"


def test_another_user_cannot_resume_her_page(client, world, login_as, app):
    login_as(world.users["caseworker"])
    csrf = _expire(client, app)
    response = _resume(client, csrf, "caseworker_b")  # a right password, the wrong person
    assert response.status_code == 403
    assert "Chỉ người đã mở trang này" in response.get_json()["error"]
    assert _state(client)["alive"] is False
    assert audit_actions()[-1] == "auth.sign_in_failed"


def test_wrong_password_is_throttled_with_the_sign_in_page(client, world, login_as, app):
    login_as(world.users["caseworker"])
    csrf = _expire(client, app)
    for _ in range(5):
        assert _resume(client, csrf, "caseworker", "sai mật khẩu rồi nhé").status_code == 401
    assert _resume(client, csrf, "caseworker").status_code == 429  # even the right one, now
    response = client.post("/auth/sign-in", data={"username": "caseworker", "password": PASSWORD})
    assert response.status_code == 429  # the same buckets as the sign-in page


def test_resume_without_an_earlier_session_is_refused(client, world):
    csrf = _state(client)["csrf"]
    response = _resume(client, csrf, "caseworker")
    assert response.status_code == 409
    assert _state(client)["alive"] is False


def test_resume_asks_for_the_second_factor(client, world, login_as, app):
    user = world.users["caseworker"]
    enrol(user)
    client.post("/auth/sign-in", data={"username": "caseworker", "password": PASSWORD})
    client.post("/auth/mfa", data={"code": totp_code(user)})
    assert _state(client)["alive"] is True
    csrf = _expire(client, app)
    answer = _resume(client, csrf, "caseworker").get_json()
    assert answer == {"alive": False, "step": "code", "csrf": answer["csrf"]}
    assert _state(client)["alive"] is False  # not before the code
    wrong = client.post(
        "/auth/resume/code", data={"code": "000000"}, headers={**JSON, "X-CSRFToken": csrf}
    )
    assert wrong.status_code == 401
    right = client.post(
        "/auth/resume/code",
        data={"code": totp_code(user, offset=1)},
        headers={**JSON, "X-CSRFToken": answer["csrf"]},
    )
    assert right.status_code == 200 and right.get_json()["alive"] is True


@pytest.mark.parametrize("path", ["/auth/session"])
def test_the_state_says_nothing_to_strangers(client, path):
    assert client.get(path, headers=JSON).get_json()["alive"] is False
