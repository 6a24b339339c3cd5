"""The offline queue in real Chromium: offline, submit, online again -> exactly one entry."""

from __future__ import annotations

import os

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from tests.live import browser_app, chromium_browser, live_server, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def live_app(tmp_path):
    """Our own app on its own SQLite file, served from a thread, with CSRF switched on.

    Tests marked `browser` keep Flask-SQLAlchemy's own session (see the `db` fixture)."""
    from app.orgs.models import OrgLevel
    from app.permissions import Role
    from tests.factories import OrgUnitFactory, UserFactory

    app = browser_app(tmp_path)
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh", level=OrgLevel.PROVINCE)
        commune = OrgUnitFactory(
            code="37-X1", name="Xã Ninh Hải", level=OrgLevel.COMMUNE, parent=province
        )
        UserFactory(username="vol", role=Role.VOLUNTEER, org_unit=commune)
        _db.session.commit()
    try:
        with live_server(app) as base_url:
            yield app, base_url
    finally:
        with app.app_context():
            _db.engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    with chromium_browser() as browser:
        yield browser


def _sign_in(browser, base, **context_options):
    from tests.factories import PASSWORD

    context = browser.new_context(**context_options)
    page = context.new_page()
    page.goto(f"{base}/auth/sign-in")
    page.fill("input[name=username]", "vol")
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.goto(f"{base}/outreach/new")
    return context, page


def _entries(app) -> list[str]:
    from app.outreach.models import OutreachActivity

    with app.app_context():
        keys = _db.session.execute(sa.select(OutreachActivity.idempotency_key)).scalars().all()
        _db.session.remove()
        return list(keys)


def test_offline_submit_arrives_exactly_once(live_app, chromium):
    app, base = live_app
    context, page = _sign_in(chromium, base, viewport={"width": 360, "height": 740})
    loaded_with = page.input_value("input[name=idempotency_key]")
    page.check("input[name=form][value=group_talk]")
    page.check("input[name=topics][value=hiv_sti]")
    page.check("input[name=place][value=community]")
    page.fill("input[name=reached_public]", "12")

    context.set_offline(True)
    page.click("#outreach-form button[type=submit]")
    page.wait_for_selector("#outreach-pending li")
    assert page.locator("#outreach-pending li").count() == 1
    assert "12" in page.inner_text("#outreach-pending li")
    assert page.inner_text("#outreach-count") == "1 hoạt động chờ gửi"
    [key] = _queued_keys(page)
    assert key != loaded_with  # the entry's own key, made when it was typed
    assert _entries(app) == []

    context.set_offline(False)
    page.wait_for_selector("#outreach-pending", state="hidden", timeout=15000)
    assert _entries(app) == [key]
    # The banner follows the queue: nothing is "kept on the phone" any more.
    page.wait_for_selector("#outreach-status.flash-success")
    assert "Chưa có mạng" not in page.inner_text("#outreach-status")

    page.reload()  # nothing left to send: still exactly one
    assert page.evaluate("localStorage.getItem('caunoi.outreach.queue.v1')") == "[]"
    assert _entries(app) == [key]
    context.close()


def test_online_submit_sends_at_once_and_shows_errors(live_app, chromium):
    app, base = live_app
    context, page = _sign_in(chromium, base)
    page.check("input[name=form][value=leaflets]")
    page.check("input[name=place][value=school]")
    page.click("#outreach-form button[type=submit]")  # no topic, no count
    page.wait_for_selector(".js-error")
    errors = page.inner_text("#outreach-form")
    assert "Hãy chọn ít nhất một chủ đề." in errors
    assert "ít nhất một nhóm" in errors
    assert _entries(app) == []
    page.check("input[name=topics][value=law_policy]")
    page.fill("input[name=reached_students]", "80")
    page.click("#outreach-form button[type=submit]")
    page.wait_for_selector("#outreach-status.flash-success")
    assert len(_entries(app)) == 1
    context.close()


def _queued_keys(page) -> list[str]:
    return page.evaluate(
        "JSON.parse(localStorage.getItem('caunoi.outreach.queue.v1') || '[]').map(e => e.key)"
    )


def _wait_for_kept_form(page) -> None:
    page.evaluate(
        """async () => {
            await navigator.serviceWorker.ready;
            for (let i = 0; i < 100 && !(await caches.match('/outreach/new')); i++) {
                await new Promise(r => setTimeout(r, 100));
            }
        }"""
    )


def test_form_opens_offline_through_the_service_worker(live_app, chromium):
    app, base = live_app
    context, page = _sign_in(chromium, base)
    _wait_for_kept_form(page)
    context.set_offline(True)
    page.goto(f"{base}/outreach/new")  # no network: the worker answers with the kept form
    page.check("input[name=form][value=loudspeaker]")
    page.check("input[name=topics][value=gbv]")
    page.check("input[name=place][value=community]")
    page.fill("input[name=reached_public]", "300")
    page.click("#outreach-form button[type=submit]")
    page.wait_for_selector("#outreach-pending li")
    [key] = _queued_keys(page)
    assert set(_entries(app)) <= {key}  # see the three-entries test below
    context.set_offline(False)
    page.wait_for_selector("#outreach-pending", state="hidden", timeout=15000)
    assert _entries(app) == [key]
    context.close()


def test_three_offline_entries_from_the_kept_form_all_arrive_once(live_app, chromium):
    """Issue #13: the form reopened from the cache carried one key, and two entries were lost."""
    app, base = live_app
    context, page = _sign_in(chromium, base, viewport={"width": 360, "height": 740})
    _wait_for_kept_form(page)
    context.set_offline(True)
    for n, reached in enumerate(("11", "22", "33"), start=1):
        page.goto(f"{base}/outreach/new")  # reopened from the service-worker cache each time
        page.check("input[name=form][value=group_talk]")
        page.check("input[name=topics][value=hiv_sti]")
        page.check("input[name=place][value=community]")
        page.fill("input[name=reached_public]", reached)
        page.click("#outreach-form button[type=submit]")
        page.wait_for_function(f"document.querySelectorAll('#outreach-pending li').length === {n}")
        assert page.inner_text("#outreach-count") == f"{n} hoạt động chờ gửi"
        assert "Chưa có mạng" in page.inner_text("#outreach-status")
    keys = _queued_keys(page)
    assert len(set(keys)) == 3
    if shots := os.environ.get("CAUNOI_SCREENSHOTS"):  # by hand, to look at
        page.screenshot(path=f"{shots}/volunteer_outreach_offline.png")
    assert "Không kết nối được máy chủ." in page.inner_text("#outreach-last-error")
    # Nothing else arrived. (Now and then, about one run in six, a request of a page that a
    # service worker controls slips past Chromium's offline emulation: the entry then arrives
    # early, under its own key, and is still saved once.)
    assert set(_entries(app)) <= set(keys)

    context.set_offline(False)
    page.wait_for_selector("#outreach-pending", state="hidden", timeout=15000)
    assert sorted(_entries(app)) == sorted(keys)  # three saved, none twice
    page.wait_for_selector("#outreach-status.flash-success")
    page.reload()
    page.wait_for_timeout(300)  # a reloaded page finds nothing to send again
    assert sorted(_entries(app)) == sorted(keys)
    assert _queued_keys(page) == []
    context.close()


def test_signing_out_forgets_the_kept_form(live_app, chromium):
    from playwright.sync_api import Error

    _app, base = live_app
    context, page = _sign_in(chromium, base)
    _wait_for_kept_form(page)
    page.click("header form[action='/auth/sign-out'] button")
    page.wait_for_url(f"{base}/auth/sign-in")
    kept = page.evaluate(
        """async () => {
            for (let i = 0; i < 50; i++) {
                const names = (await caches.keys()).filter(n => n.startsWith('caunoi-outreach-'));
                const workers = await navigator.serviceWorker.getRegistrations();
                if (!names.length && !workers.length) { return 0; }
                await new Promise(r => setTimeout(r, 100));
            }
            return 1;
        }"""
    )
    assert kept == 0
    context.set_offline(True)
    with pytest.raises(Error):
        page.goto(f"{base}/outreach/new")  # nothing answers for it any more
    context.close()
