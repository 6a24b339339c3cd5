"""The admin pages on a 360-px phone in Chromium: tree, add a unit, user list, disable."""

from __future__ import annotations

import os

import pytest

from tests.factories import PASSWORD
from tests.live import chromium, live_server

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("CAUNOI_SCREENSHOTS")  # a folder to keep screenshots in, when set


def _fits(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"orgs-{name}.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, name


def test_admin_pages_on_a_phone(seeded_app):
    with live_server(seeded_app) as base, chromium(viewport={"width": 360, "height": 740}) as ctx:
        page = ctx.new_page()
        errors = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(base + "/auth/sign-in")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit].primary")
        page.wait_for_url(base + "/home")

        page.click(".menu-toggle")  # on a phone the navigation is a menu
        page.click(".mainnav >> text=Đơn vị")
        page.wait_for_url(base + "/admin/org-units")
        assert page.locator(".org-tree li").count() == 8
        assert page.locator(".org-depth-2").count() == 5
        _fits(page, "tree")

        page.click("text=Huyện Kim Sơn (demo)")
        page.click("text=Thêm đơn vị cấp dưới")
        page.fill("input[name=code]", "37-C06")
        page.fill("input[name=name]", "Xã Kim Hải")
        page.select_option("select[name=level]", "commune")
        _fits(page, "new")
        page.click("button[type=submit].primary")
        page.wait_for_url(base + "/admin/org-units/37-C06")
        assert "Đã thêm đơn vị." in page.content()
        _fits(page, "unit")

        page.goto(base + "/admin/users")
        assert page.locator(".user-list li").count() == 6  # one demo user per role
        _fits(page, "users")
        page.click("text=volunteer")
        page.click("button:has-text('Khoá tài khoản')")
        # The form posts and comes back to the same address: wait for the answer itself, not
        # for the page that is being replaced (reading it mid-navigation was flaky).
        page.wait_for_selector("text=Đã khoá tài khoản")
        assert "Đã khoá tài khoản" in page.content()
        _fits(page, "user")
        assert not errors, errors
