"""Canary names never reach a report, an export or the API; figures are consistent top-down."""

from __future__ import annotations

import io
from datetime import date

import openpyxl

from app.extensions import db
from app.permissions import Actor
from app.reports import indicators as ind
from app.reports.layout import build_report
from tests.reports.conftest import TODAY, assert_protected, second_client

CANARY = "Canary Nguyễn Thị Kiểmtra"
CANARY_PHONE = "0912999888"


def _open_canary_case(world):
    from app.cases import services
    from app.cases.services import ConsentGiven, Intake

    actor = Actor.from_user(world.users["caseworker"])
    case = services.open_case(
        actor,
        Intake(
            org_unit_id=world.commune_a.id,
            consent=ConsentGiven(purposes=["record"], method="verbal"),
            full_name=CANARY,
            phone=CANARY_PHONE,
            needs=[("health", "normal"), ("legal_aid", "high")],
        ),
    )
    for need in case.needs:
        need.identified_on = date(2026, 3, 3)
    db.session.commit()
    return case


def _xlsx_text(data: bytes) -> str:
    wb = openpyxl.load_workbook(io.BytesIO(data))
    return " ".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row)


def test_canary_names_never_appear(client, world, known, login_as):
    case = _open_canary_case(world)
    login_as(world.users["supervisor"])
    urls = [
        "/reports/?period=2026",
        "/reports/?period=2026&unit=37-A1",
        "/reports/report?kind=annual&year=2026",
        "/reports/report.csv?kind=annual&year=2026",
        "/reports/report.xlsx?kind=annual&year=2026",
        "/api/v1/reports/dashboard?period=2026",
        "/api/v1/reports/annual/2026",
    ]
    responses = {url: client.get(url) for url in urls}
    # A refusal or an error page would hold no canary either: every page must have answered.
    assert {url: r.status_code for url, r in responses.items()} == dict.fromkeys(urls, 200)
    outputs = [
        _xlsx_text(r.data) if url.split("?")[0].endswith(".xlsx") else r.get_data(as_text=True)
        for url, r in responses.items()
    ]
    for text in outputs:
        assert "Canary" not in text and "Kiểmtra" not in text and CANARY_PHONE not in text
        assert case.code not in text  # supervisors never see a case code either
    other, signed_in = second_client(client, "caseworker")
    assert signed_in.status_code == 302
    page = other.get("/reports/?period=2026").get_data(as_text=True)
    assert "Canary" not in page and CANARY_PHONE not in page
    assert case.code in page  # the caseworker's own follow-up list


def test_district_row_and_district_report_agree(world, population):
    """A district's row in the province report and the total row of the district's own report
    count the same people, so they print the same figures: nothing to subtract."""
    p = population
    # District A: commune A1 has 12 cases (8 connected); a second commune has 3 (2 connected).
    from tests.factories import OrgUnitFactory

    a2 = OrgUnitFactory(code="37-A2", name="Xã Thứ Hai", level="commune", parent=world.district_a)
    for unit, cases, connected in ((world.commune_a, 12, 8), (a2, 3, 2), (world.commune_b, 20, 15)):
        for n in range(cases):
            case = p.case(unit)
            need = p.need(case, date(2026, 2, 1))
            if n < connected:
                p.referral(case, need, "completed", completed_on=date(2026, 2, 10))
    period = ind.Period(date(2026, 1, 1), date(2026, 6, 30))
    province = build_report(
        world.province, period, "90", protected=True, k=5, today=TODAY, breakdowns=False
    )
    district = build_report(
        world.district_a, period, "90", protected=True, k=5, today=TODAY, breakdowns=False
    )
    row = next(r for r in province.rows if r.key == "37-A")
    for key in ("cases", "connected", "declined", "overdue"):
        assert row.cells[key].text == district.total.cells[key].text, key
    # Commune A2's 3 cases (2 connected) are never printed as 3 or 2.
    a2_row = next(r for r in district.rows if r.key == "37-A2")
    assert_protected(a2_row.cells["cases"].text, 3)
    assert_protected(a2_row.cells["connected"].text, 2)
    # The district total is the sum of its communes' 15 cases, perturbed as a cell of its own.
    assert_protected(district.total.cells["cases"].text, 15)
    # A caseworker of the district sees the true counts.
    plain = build_report(
        world.district_a, period, "90", protected=False, k=5, today=TODAY, breakdowns=False
    )
    assert [r.cells["cases"].text for r in plain.rows] == ["12", "3", "15"]
