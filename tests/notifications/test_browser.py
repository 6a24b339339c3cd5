"""End to end in Chromium, at 360 px: the caseworker refers -> the partner's bell shows 1 and
her e-mail arrives at a local SMTP server (aiosmtpd) without identifying data -> she accepts ->
the caseworker's bell and e-mail -> a referral passes its due date -> the reminder goes once.
Delivery runs on the job engine's in-process worker, as in start-demo."""

from __future__ import annotations

import time
from datetime import date, timedelta

import pytest

from app import jobs
from app.extensions import db
from tests.live import browser_app, chromium_browser, live_server, needs_chromium
from tests.notifications.conftest import give_settings
from tests.notifications.servers import smtp_server
from tests.referrals.test_browser import _sign_in

pytestmark = [pytest.mark.browser, needs_chromium]
PHONE = {"viewport": {"width": 360, "height": 740}}
IDENTIFYING = ("Chị Lan", "Nguyễn Thị Lan", "0912", "HIV", "Xét nghiệm", "y tế", "health")


@pytest.fixture
def world_app(tmp_path):
    from app.orgs.models import OrgLevel
    from app.permissions import Role
    from tests.factories import OrgUnitFactory, UserFactory
    from tests.referrals.factories import make_case, make_location, make_org, make_service

    with smtp_server() as sink:
        app = browser_app(tmp_path)
        app.config.update(
            JOBS_BACKEND="thread",
            NOTIFY_SMTP_HOST="127.0.0.1",
            NOTIFY_SMTP_PORT=sink.port,
            NOTIFY_TIMEOUT=5,
        )
        from app.jobs.engine import init_app

        init_app(app)  # the in-process worker of start-demo
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
            cw = UserFactory(username="caseworker", role=Role.CASEWORKER, org_unit=district)
            partner = UserFactory(username="partner", role=Role.PARTNER, org_unit=district)
            partner.partner_organization_id = org.id
            give_settings(cw, email="can.bo@example.org")
            give_settings(partner, email="co.so@example.org")
            case = make_case(commune, user=cw)
            db.session.commit()
            ids = {"code": case.code, "need": case.needs[0].id}
        yield app, ids, sink
        app.extensions["jobs"].stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def _mail_to(sink, address: str, count: int, seconds: float = 20) -> list:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = [m for m in sink.messages if m["To"] == address]
        if len(found) >= count:
            return found
        time.sleep(0.2)
    return [m for m in sink.messages if m["To"] == address]


def _refer(page, base: str, ids: dict) -> str:
    page.goto(f"{base}/cases/{ids['code']}/referrals")
    page.click(f"#need-{ids['need']} a.button")
    page.select_option("select[name=service_id]", index=0)
    page.click("main form button[type=submit]")
    page.wait_for_selector("#referral-status")
    return page.url


def _bell(page) -> str:
    return page.inner_text(".bell-count").strip()


def test_notifications_close_the_loop_in_chromium(world_app):
    app, ids, sink = world_app
    with live_server(app) as base, chromium_browser() as browser:
        caseworker = browser.new_context(**PHONE).new_page()
        _sign_in(caseworker, base, "caseworker")
        assert _bell(caseworker) == "0"
        referral_url = _refer(caseworker, base, ids)

        partner = browser.new_context(**PHONE).new_page()
        _sign_in(partner, base, "partner")
        assert _bell(partner) == "1"
        # The day's work comes first on her home, before the cards.
        assert partner.locator("section.today li").count() == 1
        [mail] = _mail_to(sink, "co.so@example.org", 1)
        body = mail.get_content()
        assert "Có 1 chuyển gửi mới đang chờ cơ sở của bạn." in body
        for word in (*IDENTIFYING, ids["code"]):
            assert word not in body and word not in str(mail)
        # The bell is reachable on a 360 px phone and leads to the referral.
        box = partner.locator(".bell").bounding_box()
        assert box["x"] + box["width"] <= 360 and box["height"] >= 40
        partner.click(".bell")
        partner.click(".notification-list a")
        assert partner.url == referral_url
        assert _bell(partner) == "0"
        partner.click("details.transition summary >> text=Tiếp nhận")
        partner.click("details[open] button[type=submit]")
        partner.wait_for_selector("text=Đã tiếp nhận")

        caseworker.goto(f"{base}/home")
        assert _bell(caseworker) == "1"
        assert "Trả lời mới của cơ sở dịch vụ" in caseworker.inner_text("section.today")
        [answer] = _mail_to(sink, "can.bo@example.org", 1)
        assert "cập nhật mới của cơ sở dịch vụ" in answer.get_content()
        assert ids["code"] not in answer.get_content()

        # A second referral is left unanswered past its date: one reminder, however often
        # the reminder job runs.
        second_url = _refer(caseworker, base, ids)
        second_id = int(second_url.rstrip("/").rsplit("/", 1)[1])
        assert len(_mail_to(sink, "co.so@example.org", 2)) == 2
        with app.app_context():
            from app.referrals.models import Referral

            db.session.get(Referral, second_id).respond_by = date.today() - timedelta(days=1)
            db.session.commit()
            for _ in range(3):
                jobs.enqueue("app.referrals.tasks:remind_referrals")
            db.session.remove()
        to_partner = _mail_to(sink, "co.so@example.org", 3)
        to_caseworker = _mail_to(sink, "can.bo@example.org", 2)
        time.sleep(2)  # would a second reminder come?
        overdue = [m for m in sink.messages if "quá hạn trả lời" in m.get_content()]
        assert len(to_partner) == 3 and len(to_caseworker) == 2
        assert sorted(m["To"] for m in overdue) == ["can.bo@example.org", "co.so@example.org"]
        partner.goto(f"{base}/home")
        assert partner.locator("section.today .badge.bad").count() == 1  # shown as overdue
