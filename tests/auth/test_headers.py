"""Security headers on every page: anonymous and signed in, error pages and static files."""

from __future__ import annotations

import pytest

from app.permissions import Role
from tests.conftest import sign_in

CSP_PARTS = (
    "default-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
)


def _get_urls(app) -> list[str]:
    """Every GET page whose URL needs no argument."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods and not rule.arguments:
            urls.append(rule.rule)
    return sorted(urls)


def _assert_headers(response, url: str) -> None:
    h = response.headers
    csp = h.get("Content-Security-Policy", "")
    for part in CSP_PARTS:
        assert part in csp, (url, part)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, url
    assert h.get("X-Content-Type-Options") == "nosniff", url
    assert h.get("Referrer-Policy") == "no-referrer", url
    assert "Strict-Transport-Security" not in h, url  # plain HTTP: no HSTS


def _extra_urls() -> list[tuple[str, str]]:
    return [
        ("GET", "/static/css/app.css"),
        ("GET", "/static/favicon.svg"),
        ("GET", "/no/such/page"),  # 404
        ("GET", "/auth/sign-out"),  # 405
        ("POST", "/language"),
    ]


def test_every_anonymous_page_has_the_headers(app, client, world):
    for url in _get_urls(app):
        _assert_headers(client.get(url), url)
    for method, url in _extra_urls():
        _assert_headers(client.open(url, method=method), url)
    # A refused sign-in (401) and a throttled one (429) too.
    for _ in range(5):
        _assert_headers(sign_in(client, "caseworker", "wrong password!"), "401")
    throttled = sign_in(client, "caseworker", "wrong password!")
    assert throttled.status_code == 429
    _assert_headers(throttled, "429")


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_every_signed_in_page_has_the_headers_and_no_store(app, client, world, login_as, role):
    username = {"caseworker": "caseworker"}.get(role, role)
    login_as(world.users[username])
    for url in _get_urls(app):
        response = client.get(url)
        _assert_headers(response, url)
        assert "no-store" in response.headers.get("Cache-Control", ""), url
    for method, url in _extra_urls():
        response = client.open(url, method=method)
        _assert_headers(response, url)
        assert "no-store" in response.headers.get("Cache-Control", ""), url
    assert client.get("/home").status_code == 200


def test_pages_with_forms_and_errors_are_not_cached_for_anyone(client, world):
    for url in ("/auth/sign-in", "/no/such/page"):
        assert "no-store" in client.get(url).headers.get("Cache-Control", ""), url


def test_hsts_over_https(app, world):
    client = app.test_client()
    response = client.get("/auth/sign-in", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert (
        int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 31536000
    )
    static = client.get("/static/css/app.css", base_url="https://localhost")
    assert "Strict-Transport-Security" in static.headers
    missing = client.get("/no/such/page", base_url="https://localhost")
    assert missing.status_code == 404 and "Strict-Transport-Security" in missing.headers


def test_pages_carry_no_inline_script_or_style(app, client, world, login_as):
    login_as(world.users["admin"])
    for url in ("/home", "/auth/password", "/auth/mfa/enrol", "/auth/sign-in", "/no/such/page"):
        body = client.get(url, follow_redirects=True).get_data(as_text=True)
        assert "<script>" not in body and " style=" not in body and "<style" not in body, url
        assert "javascript:" not in body and " onclick=" not in body, url


def test_error_pages_echo_nothing_from_the_request(client, world):
    marker = "xss-probe-<b>"
    response = client.get(f"/no/such/{marker}")
    assert response.status_code == 404
    assert "xss-probe" not in response.get_data(as_text=True)
