"""The national dashboard: a supervisor at the central unit sees figures over every province, and
moving the provinces under it keeps every case's figures (the figures tables hold unit ids)."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.orgs import services as orgs
from app.permissions import Actor, Role
from app.reports import indicators as ind
from app.reports.layout import build_report
from tests.conftest import sign_in
from tests.factories import UserFactory
from tests.reports.conftest import TODAY, second_client

H1 = ind.Period(date(2026, 1, 1), date(2026, 6, 30))
CENTRAL_NAME = "Trung ương Hội LHPN Việt Nam"


def _totals(unit) -> tuple[int, int]:
    total = build_report(unit, H1, "90", protected=False, k=5, today=TODAY).total
    return total.cells["cases"].value, total.cells["connected"].value


def test_moving_provinces_under_the_central_unit_keeps_their_figures(world, known, bac_ninh):
    ninh_binh, other = _totals(world.province), _totals(bac_ninh)
    assert ninh_binh == (9, 6) and other == (1, 1)
    central, moved = orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    db.session.commit()
    assert {p.code for p in moved} == {"37", "27"}
    assert _totals(world.province) == ninh_binh and _totals(bac_ninh) == other
    assert _totals(central) == (10, 7)
    report = build_report(central, H1, "90", protected=False, k=5, today=TODAY)
    assert sorted(row.key for row in report.rows if not row.is_total) == ["27", "37"]


def test_the_central_supervisor_sees_the_national_dashboard(client, world, known, bac_ninh):
    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    supervisor = UserFactory(username="sup_tw", role=Role.SUPERVISOR, org_unit=central)
    db.session.commit()
    assert sign_in(client, supervisor.username).status_code == 302
    response = client.get("/reports/?period=2026-H1&window=90")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "Tỉnh Ninh Bình" in html and "Tỉnh Bắc Ninh" in html
    for case in known.values():
        assert case.code not in html
    # Drilling down into a province is within her scope.
    assert client.get("/reports/?unit=27&period=2026-H1").status_code == 200
    report = client.get("/reports/report?kind=six_monthly&year=2026")
    assert report.status_code == 200
    viewed = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.action == "report.viewed")
    ).all()
    assert [e.object_ref for e in viewed] == ["six_monthly:TW:2026"]
    assert viewed[0].actor_username == "sup_tw"


def test_a_province_supervisor_does_not_see_the_central_figures(client, world, known, bac_ninh):
    orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    db.session.commit()
    sign_in(client, "supervisor")
    assert client.get("/reports/?unit=TW").status_code == 404
    assert client.get("/reports/?unit=27").status_code == 404
    html = client.get("/reports/?period=2026-H1").get_data(as_text=True)
    assert "Tỉnh Bắc Ninh" not in html


def test_the_official_reports_name_the_central_body(client, world, known, bac_ninh):
    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    UserFactory(username="sup_tw", role=Role.SUPERVISOR, org_unit=central)
    db.session.commit()
    national, _ = second_client(client, "sup_tw")
    page = national.get("/reports/official/?kind=six_monthly&year=2026")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert CENTRAL_NAME in html and "Hà Nội" in html
    assert "Hội Liên hiệp Phụ nữ Trung ương" not in html
    assert "(để báo cáo)" not in html  # nobody above it in Cầu Nối
    provincial, _ = second_client(client, "supervisor")
    html = provincial.get("/reports/official/?kind=six_monthly&year=2026").get_data(as_text=True)
    assert CENTRAL_NAME.upper() in html  # the body above, over the issuing body
    assert f"{CENTRAL_NAME} (để báo cáo)" in html
    assert "Hội Liên hiệp Phụ nữ Trung ương" not in html and "Hội LHPN Trung ương" not in html


def test_figures_summed_per_row_by_the_database_equal_the_per_unit_sums(world, known, bac_ninh):
    """The national report's figures come summed per row (the child unit a count lies under,
    read from its path); the province's come per unit. Both must give the same totals."""
    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    db.session.commit()
    for top in (central, world.province):
        per_unit = ind.case_figures(top, H1, "90")
        per_row = ind.case_figures(top, H1, "90", by_row=True)
        rows = {kid.id: kid for kid in top.children}

        def row_of(uid, top=top, rows=rows):
            path = db.session.get(type(top), uid).path
            return next((r for r in rows if f"/{r}/" in path[len(top.path) - 1 :]), top.id)

        summed: dict[int, list[int]] = {}
        for (uid, _y, _m), counts in per_unit.by_unit_month.items():
            row = summed.setdefault(row_of(uid), [0, 0, 0, 0])
            for i, value in enumerate(
                (counts.cases, counts.connected, counts.cases_keys, counts.connected_keys)
            ):
                row[i] += value
        got: dict[int, list[int]] = {}
        for (uid, _y, _m), counts in per_row.by_unit_month.items():
            assert uid in rows or uid == top.id
            row = got.setdefault(uid, [0, 0, 0, 0])
            for i, value in enumerate(
                (counts.cases, counts.connected, counts.cases_keys, counts.connected_keys)
            ):
                row[i] += value
        assert got == summed and got
        refs_unit = ind.referral_figures(top, H1, TODAY, 10)
        refs_row = ind.referral_figures(top, H1, TODAY, 10, by_row=True)
        assert refs_row.overdue == refs_unit.overdue  # always per unit: few, from their index
        for store in ("sent", "answered"):
            expected: dict[int, int] = {}
            for uid, n in getattr(refs_unit, store).items():
                expected[row_of(uid)] = expected.get(row_of(uid), 0) + n
            assert getattr(refs_row, store) == expected
        assert sum(refs_row.statuses.values()) == sum(refs_unit.statuses.values())


def test_days_to_service_summed_per_unit_equal_the_per_row_grouping(world, known, bac_ninh):
    """A report whose rows are (about) units reads days to service per unit and sums them per
    row in Python; one whose rows hold many units groups them per row in SQL. Every histogram
    is the same both ways, for the country, a province and a district, in every window."""
    from app.reports.layout import Tree

    central, _moved = orgs.add_central_unit(Actor.system("test"), code="TW", name=CENTRAL_NAME)
    db.session.commit()
    for top in (central, world.province, world.district_a):
        rows = Tree.of(top).rows(top, {top.id})
        for window in ind.WINDOWS:
            by_sql = ind.service_days(top, H1, window, [(u, own) for u, _m, own in rows])
            summed = ind.service_days_per_unit_summed(
                top, H1, window, [(u, members) for u, members, _own in rows]
            )
            assert summed == by_sql, (top.code, window)
            if window == "period":
                assert sum(sum(h.values()) for h in summed.values()) > 0
