"""The idle time-out in real Chromium: a warning with "Tiếp tục làm việc", and an intake whose
session ended saved after signing in again in a dialog on the same page (issue #13, point 2)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from tests.live import chromium_browser, live_server, needs_chromium, own_app

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture(scope="module")
def live_app(tmp_path_factory):
    from app.orgs.models import OrgLevel
    from app.permissions import Role
    from tests.factories import OrgUnitFactory, UserFactory

    tmp_path = tmp_path_factory.mktemp("idle")
    # Seconds instead of minutes; everything else as configured.
    app = own_app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/browser.sqlite3",
        WTF_CSRF_ENABLED=True,
        SESSION_IDLE_TIMEOUT=timedelta(seconds=5),
        SESSION_FORM_IDLE_TIMEOUT=timedelta(seconds=6),
        SESSION_IDLE_WARNING=timedelta(seconds=3),
    )
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
        commune = OrgUnitFactory(
            code="37-X1", name="Xã Ninh Hải", level=OrgLevel.COMMUNE, parent=province
        )
        UserFactory(username="canbo", role=Role.CASEWORKER, org_unit=commune)
        UserFactory(username="canbo2", role=Role.CASEWORKER, org_unit=commune)
        _db.session.commit()
    try:
        with live_server(app) as base_url:
            yield app, base_url
    finally:
        with app.app_context():
            _db.session.remove()
            _db.engine.dispose()


@pytest.fixture(scope="module")
def browser():
    with chromium_browser() as b:
        yield b


def _signed_in(browser, base, username="canbo"):
    from tests.factories import PASSWORD

    context = browser.new_context(viewport={"width": 360, "height": 740})
    page = context.new_page()
    page.goto(f"{base}/auth/sign-in")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/home")
    return context, page


def _cases(app) -> list[str]:
    from app.cases.models import Case

    with app.app_context():
        codes = list(_db.session.execute(sa.select(Case.code)).scalars())
        _db.session.remove()
        return codes


def _fill_intake(page, name: str) -> None:
    page.check("input[name=consent_record]")
    page.check("input[name=consent_method][value=verbal]")
    page.fill("input[name=full_name]", name)
    page.select_option("select[name=need_jobs]", "high")


def test_warning_then_continue_working_keeps_the_session(live_app, browser):
    _app, base = live_app
    context, page = _signed_in(browser, base)
    page.wait_for_selector("#idle-warning[open]", timeout=6000)
    assert "Tiếp tục làm việc" in page.inner_text("#idle-warning")
    page.click("#idle-warning [data-role=continue]")
    page.wait_for_selector("#idle-warning[open]", state="detached")
    page.wait_for_timeout(2500)  # past the first idle limit: the session goes on
    state = page.evaluate("fetch('/auth/session').then(r => r.json())")
    assert state["alive"] is True
    context.close()


def test_an_intake_after_the_time_out_is_saved_after_signing_in_again(live_app, browser):
    from tests.factories import PASSWORD

    app, base = live_app
    before = _cases(app)
    context, page = _signed_in(browser, base)
    page.goto(f"{base}/cases/new")
    _fill_intake(page, "Hà Thị Hết Giờ")
    page.wait_for_timeout(7000)  # the interview went on past the idle limit
    page.click("button[type=submit].primary")
    page.wait_for_selector("#resume-dialog[open]")
    assert page.url == f"{base}/cases/new"  # no navigation: what she typed is still here
    assert page.input_value("input[name=full_name]") == "Hà Thị Hết Giờ"
    assert page.evaluate("localStorage.length + sessionStorage.length") == 0
    assert _cases(app) == before
    page.fill("#resume-password", PASSWORD)
    page.click("#resume-dialog button[type=submit]")
    page.wait_for_url(f"{base}/cases/NB-*")
    assert "Hà Thị Hết Giờ" in page.content()
    assert len(_cases(app)) == len(before) + 1
    context.close()


def test_another_user_cannot_save_her_form(live_app, browser):
    from tests.factories import PASSWORD

    app, base = live_app
    before = _cases(app)
    context, page = _signed_in(browser, base)
    page.goto(f"{base}/cases/new")
    _fill_intake(page, "Lò Thị Khác Người")
    page.wait_for_timeout(7000)
    page.click("button[type=submit].primary")
    page.wait_for_selector("#resume-dialog[open]")
    # Someone else at the same phone: the name field is hers and read-only; forcing another
    # username through the dialog is refused by the server.
    page.evaluate("document.getElementById('resume-username').removeAttribute('readonly')")
    page.fill("#resume-username", "canbo2")
    page.fill("#resume-password", PASSWORD)
    page.click("#resume-dialog button[type=submit]")
    page.wait_for_selector("#resume-dialog [data-role=error]:not([hidden])")
    assert "Chỉ người đã mở trang này" in page.inner_text("#resume-dialog")
    assert page.url == f"{base}/cases/new"
    assert _cases(app) == before
    context.close()
