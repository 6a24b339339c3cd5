"""The whole loop in real Chromium: the caseworker refers, the partner accepts and records the
service received, the caseworker sees the need as connected."""

from __future__ import annotations

import re
from datetime import date

import pytest

from app.extensions import db
from tests.factories import PASSWORD
from tests.live import browser_app, chromium_browser, live_server, needs_chromium

pytestmark = [pytest.mark.browser, needs_chromium]


@pytest.fixture
def browser():
    with chromium_browser() as chromium:
        yield chromium


@pytest.fixture
def loop_app(tmp_path):
    from app.orgs.models import OrgLevel
    from app.permissions import Role
    from tests.factories import OrgUnitFactory, UserFactory
    from tests.referrals.factories import make_case, make_location, make_org, make_service

    app = browser_app(tmp_path)
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
        district = OrgUnitFactory(
            code="37-A", name="Huyện A", level=OrgLevel.DISTRICT, parent=province
        )
        commune = OrgUnitFactory(
            code="37-A1", name="Xã Ninh Hải", level=OrgLevel.COMMUNE, parent=district
        )
        org = make_org("Trung tâm Y tế huyện A")
        service = make_service(org, "health", [district], 3, name="Xét nghiệm HIV/STI")
        make_location(org, service)
        UserFactory(username="caseworker", role=Role.CASEWORKER, org_unit=district)
        partner = UserFactory(username="partner", role=Role.PARTNER, org_unit=district)
        partner.partner_organization_id = org.id
        case = make_case(commune)
        db.session.commit()
        ids = {"code": case.code, "need": case.needs[0].id}
    yield app, ids
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _sign_in(page, base: str, username: str) -> None:
    page.goto(f"{base}/auth/sign-in")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(f"{base}/home")


def test_whole_loop_in_chromium(loop_app, browser):
    app, ids = loop_app
    phone = {"viewport": {"width": 360, "height": 740}}
    with live_server(app) as base:
        caseworker = browser.new_context(**phone).new_page()
        _sign_in(caseworker, base, "caseworker")
        caseworker.goto(f"{base}/cases/{ids['code']}/referrals")
        assert "Chưa kết nối" in caseworker.content()
        caseworker.click(f"#need-{ids['need']} a.button")
        caseworker.select_option("select[name=service_id]", index=0)
        assert caseworker.is_checked("input[name=fields][value=phone]")
        caseworker.fill("textarea[name=partner_note]", "Chị muốn đến buổi sáng")
        caseworker.click("main form button[type=submit]")
        caseworker.wait_for_selector("#referral-status")
        assert "Đã gửi, chờ trả lời" in caseworker.inner_text("#referral-status")
        referral_url = caseworker.url

        partner = browser.new_context(**phone).new_page()
        _sign_in(partner, base, "partner")
        partner.goto(f"{base}/referrals/")
        partner.click("table a")
        assert partner.url == referral_url
        shared = partner.inner_text("section.shared")
        assert ids["code"] not in partner.content() and "Chị Lan" in shared
        assert re.fullmatch(r"CG-\w{4}-\w{4}", partner.inner_text("#partner-reference"))
        assert "Chị muốn đến buổi sáng" in shared
        partner.click("details.transition summary >> text=Tiếp nhận")
        partner.click("details[open] button[type=submit]")
        partner.wait_for_selector("text=Đã tiếp nhận")
        partner.click("details.transition summary >> text=Ghi nhận kết quả: đã nhận dịch vụ")
        partner.select_option("details[open] select[name=completed-outcome]", "service_received")
        partner.fill("details[open] input[name=completed-service_date]", date.today().isoformat())
        partner.click("details[open] button[type=submit]")
        partner.wait_for_selector("#referral-status")
        assert "Đã nhận dịch vụ" in partner.inner_text("#referral-status")

        caseworker.goto(f"{base}/cases/{ids['code']}/referrals")
        assert "Đã được kết nối dịch vụ" in caseworker.inner_text(f"#need-{ids['need']}")
