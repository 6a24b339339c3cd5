"""Intake in real Chromium on a 360-px-wide phone screen, with CSRF on and no JavaScript needed."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db as _db
from tests.live import browser_app, chromium, live_server, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def live_app(tmp_path):
    from app.orgs.models import OrgLevel
    from app.permissions import Role
    from tests.factories import OrgUnitFactory, UserFactory

    app = browser_app(tmp_path)
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
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
            _db.session.remove()
            _db.engine.dispose()


def test_intake_on_a_360px_phone_without_javascript(live_app, tmp_path):
    from tests.factories import PASSWORD

    app, base = live_app
    phone = {"viewport": {"width": 360, "height": 740}, "java_script_enabled": False}
    with chromium(**phone) as context:
        page = context.new_page()
        page.goto(f"{base}/auth/sign-in")
        page.fill("input[name=username]", "vol")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit]")
        page.goto(f"{base}/cases/new")
        # Nothing wider than the phone.
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        page.screenshot(path=str(tmp_path / "intake-360.png"), full_page=True)

        # Without consent to record: refused, nothing saved.
        page.fill("input[name=full_name]", "Đinh Thị Trình Duyệt")
        page.check("input[name=consent_method][value=verbal]")
        page.click("button[type=submit].primary")
        assert "Chưa có sự đồng ý cho việc ghi nhận hồ sơ" in page.content()

        page.check("input[name=consent_record]")
        page.check("input[name=consent_share][value='share:jobs']")
        page.check("input[name=consent_method][value=verbal]")
        page.fill("input[name=full_name]", "Đinh Thị Trình Duyệt")
        page.fill("input[name=date_of_birth]", "1996-10-20")  # the native date picker
        page.fill("input[name=phone]", "0977 123 456")
        page.select_option("select[name=need_jobs]", "high")
        page.click("button[type=submit].primary")
        assert "/cases/NB-" in page.url
        assert "Đinh Thị Trình Duyệt" in page.content()
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        code = page.url.rsplit("/", 1)[-1]
    from app.cases.models import Case

    with app.app_context():
        case = _db.session.execute(sa.select(Case).where(Case.code == code)).scalar_one()
        assert case.reached_via == "outreach" and [n.category for n in case.needs] == ["jobs"]
        assert _db.session.execute(sa.select(sa.func.count()).select_from(Case)).scalar() == 1
