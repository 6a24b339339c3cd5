"""Sign in, see the role's home page in Vietnamese, switch to English, sign out — in Chromium."""

from __future__ import annotations

import pytest

from tests.factories import PASSWORD
from tests.live import chromium, live_server

pytestmark = pytest.mark.browser


def test_sign_in_home_language_sign_out(seeded_app):
    with live_server(seeded_app) as base, chromium(viewport={"width": 360, "height": 740}) as ctx:
        page = ctx.new_page()
        page.goto(base + "/")
        assert page.locator("h1").inner_text() == "Đăng nhập"
        page.fill("input[name=username]", "caseworker")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url(base + "/home")
        assert "Cán bộ Hội" in page.content()
        assert "Quản lý hồ sơ hỗ trợ" in page.locator(".lead").inner_text()

        page.click("button[value=en]")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "en"
        assert "Sign out" in page.content()

        page.click("text=Sign out")
        page.wait_for_url(base + "/auth/sign-in")
        page.goto(base + "/home")
        assert "/auth/sign-in" in page.url
        # The page fits a 360-px-wide phone: nothing scrolls sideways.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 360
