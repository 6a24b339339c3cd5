from tests.conftest import audit_actions


def test_sign_in_reaches_home_in_vietnamese(client, world, login_as):
    login_as(world.users["caseworker"])
    response = client.get("/home")
    assert response.status_code == 200
    assert "Cán bộ Hội" in response.get_data(as_text=True)
    assert "auth.sign_in" in audit_actions()


def test_anonymous_home_redirects_to_sign_in(client):
    response = client.get("/home")
    assert response.status_code == 302
    assert "/auth/sign-in" in response.headers["Location"]


def test_error_page_echoes_nothing_from_the_request(client, world, login_as):
    login_as(world.users["caseworker"])
    response = client.get("/cases/NB-2026-99999")
    assert response.status_code == 404
    assert b"NB-2026-99999" not in response.data
    response = client.get("/no-such-page-CANARY")
    assert response.status_code == 404
    assert b"CANARY" not in response.data
