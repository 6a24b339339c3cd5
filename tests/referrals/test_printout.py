"""The printout of everything held about her (her right of access, issue #13.5): the unit that
holds her data, every organization her data was shared with and when, and signature lines."""

from __future__ import annotations

import re

from app.extensions import db
from app.referrals import services
from app.web.templating import format_date
from tests.referrals.conftest import actor


def test_printout_names_the_unit_the_recipients_and_has_signature_lines(
    client, loop, world, login_as
):
    cw = actor(world.users["caseworker"])
    sent = services.create_referral(
        cw, loop.case, loop.need, loop.hiv_testing, fields=["need", "preferred_name"]
    )
    services.send_referral(cw, sent)
    # A draft never left the office: it is not a disclosure.
    services.create_referral(cw, loop.case, loop.need, loop.legal_aid, fields=["need"])
    db.session.commit()
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{loop.case.code}/print").get_data(as_text=True)
    assert "Đơn vị lưu giữ thông tin" in page
    assert "Xã Ninh Hải, Huyện A, Tỉnh Ninh Bình" in page
    section = page[page.index("Thông tin của chị đã được chia sẻ cho") :]
    assert loop.clinic.name in section and loop.legal.name not in section
    assert format_date(sent.sent_at) in section  # the day in Vietnam
    assert (
        "Tên thường gọi, Nhu cầu hỗ trợ" in section or "Nhu cầu hỗ trợ, Tên thường gọi" in section
    )
    assert len(re.findall(r"\(ký, ghi rõ họ tên\)", page)) == 2
    assert "Người được hỗ trợ" in page and "Cán bộ Hội" in page


def test_printout_says_when_nothing_was_shared(client, loop, world, login_as):
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{loop.case.code}/print").get_data(as_text=True)
    assert "Chưa chia sẻ cho cơ sở nào." in page
