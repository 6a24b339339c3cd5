"""The official report: Decree 30 layout, Decree 09 periods, every target of the demo plan."""

from __future__ import annotations

import io
from datetime import date

import pytest
from openpyxl import load_workbook

from app.reports import official
from app.reports.indicators import Period
from app.reports.models import INDICATOR_LABELS, Indicator
from app.reports.official_models import RuleDates
from tests.conftest import audit_actions
from tests.reports.test_demo import _seed_all


def test_six_monthly_2026_covers_15_12_2025_to_14_06_2026():
    assert official.statutory_period("six_monthly", 2026) == Period(
        date(2025, 12, 15), date(2026, 6, 14)
    )
    assert official.statutory_period("annual", 2026) == Period(
        date(2025, 12, 15), date(2026, 12, 14)
    )


def test_a_plan_may_set_other_cut_offs():
    calendar = RuleDates(start=(1, 1), six_monthly_end=(6, 30), annual_end=(12, 31))
    assert official.statutory_period("six_monthly", 2026, calendar) == Period(
        date(2026, 1, 1), date(2026, 6, 30)
    )


@pytest.mark.parametrize(
    "today, until",
    [
        (date(2026, 6, 1), date(2026, 5, 31)),
        (date(2026, 6, 14), date(2026, 6, 13)),
        (date(2026, 6, 15), None),
    ],
)
def test_a_report_made_early_says_up_to_which_day(today, until):
    period = official.statutory_period("six_monthly", 2026)
    assert official.data_until(period, today) == until


@pytest.fixture
def demo(world):
    _seed_all()
    from app.extensions import db

    db.session.commit()


def test_print_page_is_the_administrative_document_with_every_target(client, demo, login_as):
    import sqlalchemy as sa

    from app.extensions import db
    from app.orgs.models import User

    supervisor = db.session.scalar(sa.select(User).where(User.username == "supervisor"))
    login_as(supervisor)
    response = client.get(
        "/reports/official/?kind=six_monthly&year=2026&number=12&signer_name=Nguyễn Thị Hoa"
        "&recipients=Hội LHPN Việt Nam"
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    for words in (
        "Cộng hòa xã hội chủ nghĩa Việt Nam",
        "Độc lập - Tự do - Hạnh phúc",
        "Số: 12/BC-HPN",
        "ngày",
        "Kỳ báo cáo: từ ngày 15/12/2025 đến ngày 14/06/2026",
        "Cùng kỳ năm trước",
        "Nơi nhận:",
        "Hội LHPN Việt Nam",
        "Nguyễn Thị Hoa",
        "CHỦ TỊCH",
        "Theo nhóm hỗ trợ",
        "Theo kết quả chuyển gửi",
    ):
        assert words in page, words
    for indicator in Indicator:
        assert str(INDICATOR_LABELS[indicator]) in page, indicator
    assert "theo kỳ của bảng số liệu" not in page  # figures over the period it names
    assert "report.viewed" in audit_actions()


def test_excel_is_the_same_document_on_a4(client, demo, login_as):
    import sqlalchemy as sa

    from app.extensions import db
    from app.orgs.models import User

    login_as(db.session.scalar(sa.select(User).where(User.username == "supervisor")))
    response = client.get("/reports/official/report.xlsx?kind=annual&year=2026")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 == "9"  # A4
    assert sheet.page_setup.orientation == "portrait"
    assert "&P" in sheet.oddFooter.center.text
    text = "\n".join(str(c.value) for row in sheet.iter_rows() for c in row if c.value)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Nơi nhận:" in text
    assert "từ ngày 15/12/2025 đến ngày 14/12/2026" in text
    for indicator in Indicator:
        assert str(INDICATOR_LABELS[indicator]) in text
    assert "report.exported" in audit_actions()


@pytest.mark.parametrize("role, status", [("volunteer", 403), ("partner", 403), ("admin", 403)])
def test_only_report_roles_get_it(client, world, login_as, role, status):
    login_as(world.users[role])
    assert client.get("/reports/official/").status_code == status
    assert client.get("/reports/official/report.xlsx").status_code == status


def test_another_unit_is_not_found(client, world, login_as):
    login_as(world.users["caseworker_b"])
    assert client.get(f"/reports/official/?unit={world.commune_a.code}").status_code == 404
