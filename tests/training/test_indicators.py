"""The staff-trained indicator: its arithmetic, its denominator, and where supervisors see it
(dashboard, official report), every figure made by the disclosure layer."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime

import openpyxl
import pytest

from app.extensions import db
from app.permissions import Actor
from app.reports import disclosure, layout, periods
from app.reports.indicators import fixed_period
from app.training import indicators, services, staffing
from tests.training.conftest import entry

H = services.Headcount


@pytest.fixture(autouse=True)
def report_today(monkeypatch):
    monkeypatch.setattr(periods, "local_today", lambda: date(2026, 12, 20))


@pytest.fixture
def trained(world, plan, monkeypatch):
    """Officers trained in 2026: caseworker (district A, twice), 2 + 1 + 1 counted in H1 at the
    province, commune B1 and commune A1, 2 at district B in H2; volunteers: the volunteer's
    account (A1) and 2 counted at B1. A deleted session and one of 2025 do not count."""
    admin = Actor.from_user(world.users["admin"])
    cw, vol = world.users["caseworker"], world.users["volunteer"]

    def add(unit, day, attendees=(), lines=()):
        e = entry(unit, held_on=day, attendee_ids=[u.id for u in attendees], headcounts=list(lines))
        return services.create_session(admin, e)

    add(
        world.province,
        date(2026, 3, 12),
        [cw, vol],
        [H(world.province.id, 2, 0), H(world.commune_b.id, 1, 2)],
    )
    add(world.district_a, date(2026, 5, 20), [cw], [H(world.commune_a.id, 1, 0)])
    gone = add(world.province, date(2026, 4, 1), [], [H(world.province.id, 5, 0)])
    services.delete_session(admin, gone)
    add(world.province, date(2025, 11, 1), [], [H(world.province.id, 1, 0)])
    monkeypatch.setattr(services, "now", lambda: datetime(2026, 9, 1, 5, tzinfo=UTC))
    add(world.province, date(2026, 8, 1), [], [H(world.district_b.id, 2, 0)])
    db.session.commit()


def flat(html: str) -> str:
    """The page's text with the non-breaking spaces of localized figures made plain."""
    return html.replace("\xa0", " ").replace("\u202f", " ")


def report(unit, period_key="2026", *, protected=True, plan=None):
    year, _sep, half = period_key.partition("-H")
    return layout.build_report(
        unit,
        fixed_period(int(year), int(half or 0)),
        "period",
        protected=protected,
        k=5,
        today=date(2026, 12, 20),
        plan=plan,
    )


def texts(rows) -> dict[str, tuple[str, str, str, str]]:
    keys = ("trained", "in_post", "rate", "volunteers")
    return {row.key: tuple(row.cells[k].text for k in keys) for row in rows}


def target(built):
    [progress] = built.plans
    return next(t for t in progress.targets if t.indicator == "staff_trained")


def test_officers_are_counted_once_volunteers_beside_them(world, trained):
    staff = indicators.load(world.province, date(2026, 1, 1), date(2026, 12, 31))
    everyone = {u.id for u in (world.province, world.district_a, world.district_b)}
    everyone |= {world.commune_a.id, world.commune_b.id}
    assert staff.officers(everyone) == 7  # caseworker once, not twice
    assert staff.volunteers(everyone) == 3
    first_half = indicators.load(world.province, date(2026, 1, 1), date(2026, 6, 30))
    assert first_half.officers(everyone) == 5
    assert staff.officers({world.district_a.id, world.commune_a.id}) == 2


def test_the_table_and_the_target_state_the_denominator(world, trained):
    built = report(world.province)
    assert texts(built.training) == {
        "37-A": ("2", "5", "40.0%", "1"),
        "37-B": ("3", "3", "100.0%", "2"),
        "37": ("2", "4", "50.0%", "0"),
        "total": ("7", "12", "58.3%", "3"),
    }
    t = target(built)
    assert t.label == "Cán bộ được tập huấn (được tập huấn/tại chức)"
    assert (t.actual_text, t.target_text, t.status) == ("58.3% (7/12)", "90.0%", "bad")
    assert target(report(world.province, "2026-H1")).actual_text == "41.7% (5/12)"


def test_a_rate_is_never_over_an_unknown_denominator(world, trained, plan):
    built = report(world.district_b)
    # Commune B1 has no staff in post entered: its trained officer shows, its rate does not.
    assert texts(built.training)["37-B1"] == ("1", "Chưa nhập", "—", "2")
    staffing.set_staff_in_post(
        Actor.from_user(world.users["admin"]),
        plan,
        {
            world.district_a.id: None,
            world.commune_a.id: None,
        },
    )
    assert target(report(world.district_a)).actual_text == "Chưa nhập số cán bộ tại chức"


def test_every_staff_figure_comes_from_the_layer(world, trained):
    built = report(world.province)
    assert disclosure.release(built) is built
    for row in built.training:
        for cell in row.cells.values():
            assert cell.protected and cell.kind in (
                disclosure.Kind.STAFF,
                disclosure.Kind.RATE,
            ), cell
    assert target(built).figure.kind is disclosure.Kind.STAFF


def test_the_layer_refuses_a_raw_staff_number(world, trained):
    built = report(world.province)
    built.training[0].cells["trained"] = 2
    with pytest.raises(disclosure.Unreleased):
        disclosure.release(built)


def test_staff_figures_are_published_as_they_are(world):
    figure = disclosure.staff(3)
    assert (figure.text, figure.value, figure.kind, figure.protected) == (
        "3",
        3,
        disclosure.Kind.STAFF,
        True,
    )
    assert disclosure.rate(figure, disclosure.staff(4)).text == "75.0%"
    with pytest.raises(ValueError):
        disclosure.staff(-1)
    with pytest.raises(TypeError):
        disclosure.Figure("3", 3, False, disclosure.Kind.STAFF)


def test_the_supervisor_dashboard_shows_the_indicator(world, trained, client_for):
    html = flat(client_for(world.users["supervisor"]).get("/reports/?period=2026").text)
    assert "Chưa có số liệu" not in html
    assert "Cán bộ được tập huấn (được tập huấn/tại chức)" in html
    assert "58,3 % (7/12)" in html  # the rate, the trained officers and the officers in post
    assert "Cán bộ tại chức (theo kế hoạch)" in html and "Kế hoạch 2026" in html
    assert "40,0 %" in html


def test_the_caseworker_dashboard_shows_her_subtree(world, trained, client_for):
    html = flat(client_for(world.users["caseworker"]).get("/reports/?period=2026").text)
    assert "40,0 % (2/5)" in html


def test_the_official_report_shows_the_indicator_and_its_units(world, trained, client_for):
    client = client_for(world.users["supervisor"])
    page = flat(client.get("/reports/official/?kind=annual&year=2026").get_data(as_text=True))
    assert "Chưa có số liệu" not in page
    # An administrative document in Vietnamese: its figures are written the Vietnamese way.
    assert "58,3 % (7/12)" in page
    assert "Cán bộ được tập huấn theo đơn vị" in page and "2/5 (40,0 %)" in page
    response = client.get("/reports/official/report.xlsx?kind=annual&year=2026")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    cells = {flat(str(c.value)) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert "58,3 % (7/12)" in cells and "2/5 (40,0 %)" in cells
