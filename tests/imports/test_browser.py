"""In Chromium at 360 px: a caseworker uploads a file too large for the request, follows the
progress page while the job has not run, and sees it done once it has."""

from __future__ import annotations

import pytest

from app import jobs
from app.extensions import db
from tests.conftest import PASSWORD
from tests.imports.test_import_latency import _csv
from tests.live import browser_app, chromium, live_server, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]
PHONE = {"viewport": {"width": 360, "height": 740}}


@pytest.fixture
def app(tmp_path):
    from app.orgs.models import OrgLevel
    from app.permissions import Role
    from tests.factories import OrgUnitFactory, UserFactory

    app = browser_app(tmp_path)
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
        OrgUnitFactory(code="37-01", name="Xã Một", level=OrgLevel.COMMUNE, parent=province)
        UserFactory(username="importer", role=Role.CASEWORKER, org_unit=province)
        db.session.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_the_progress_page_on_a_phone(app, tmp_path):
    upload = tmp_path / "ho-so.csv"
    upload.write_bytes(_csv(201))
    with live_server(app) as base, chromium(**PHONE) as context:
        page = context.new_page()
        page.goto(f"{base}/auth/sign-in")
        page.fill("input[name=username]", "importer")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/home")
        page.goto(f"{base}/cases/import")
        page.select_option("select[name=org_unit_id]", label="Xã Một")
        page.set_input_files("input[name=file]", str(upload))
        page.click("main button[type=submit]")
        page.wait_for_url(f"{base}/imports/*")
        assert page.locator("html").get_attribute("lang") == "vi"
        assert "Đang nhập" in page.inner_text("main")
        assert "201" in page.inner_text("dl")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        with app.app_context():
            assert jobs.drain() == 1
        page.reload()
        assert "Đã nhập xong 201 dòng" in page.inner_text("main")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.click("text=Xem danh sách")
        page.wait_for_url(f"{base}/cases/")
