"""The connected rate and its companions on a population with known outcomes."""

from __future__ import annotations

from datetime import date

import pytest

from app.reports import indicators as ind
from app.reports.layout import build_report
from tests.reports.conftest import TODAY

H1 = ind.Period(date(2026, 1, 1), date(2026, 6, 30))


def _total(world, window):
    counts = ind.connected_by_unit_and_month(world.province, H1, window)
    cases = sum(c.cases for c in counts.values())
    connected = sum(c.connected for c in counts.values())
    return cases, connected


@pytest.mark.parametrize(
    ("window", "connected"),
    [("30", 5), ("60", 6), ("90", 6), ("period", 5)],
)
def test_connected_rate_exact(world, known, window, connected):
    # Denominator: c1 c2 c3 c5 c6 c7 c9 c10 c11 (c4 declined, c8 outside the period).
    assert _total(world, window) == (9, connected)


def test_window_edges(world, known):
    # 30 days exactly counts, 31 days does not; a service after the period counts for
    # "within 30 days" but not for "within the period".
    codes_30 = set(ind.not_connected_cases(world.province, H1, "30"))
    codes_period = set(ind.not_connected_cases(world.province, H1, "period"))
    assert known["c2"].code not in codes_30
    assert known["c3"].code in codes_30
    assert known["c3"].code not in codes_period
    assert known["c9"].code not in codes_30
    assert known["c9"].code in codes_period


def test_erased_cases_keep_their_counts_but_no_code(world, known):
    counts = ind.connected_by_unit_and_month(world.province, H1, "90")
    b1 = sum(c.connected for (u, _, _), c in counts.items() if u == world.commune_b.id)
    assert b1 == 2  # c5 (erased, enrolled) and c10
    assert known["c5"].code not in ind.not_connected_cases(world.province, H1, "90")


def test_entered_in_error_and_withdrawn_consent_do_not_connect(world, known):
    not_connected = set(ind.not_connected_cases(world.province, H1, "90"))
    assert {known["c6"].code, known["c7"].code, known["c11"].code} <= not_connected
    statuses = ind.referrals_by_status(world.province, H1)
    assert "entered-in-error" not in statuses
    assert statuses["completed"] == 7  # c1 c2 c3 c5 c7 c9 c10 (c8 was created in 2025)
    assert statuses["failed"] == 1


def test_declined_apart(world, known):
    assert ind.declined_by_unit(world.province, H1) == {world.commune_b.id: 1}


def test_per_category(world, known):
    by_category = ind.connected_by_category(world.province, H1, "90")
    assert by_category["legal_aid"].cases == 1 and by_category["legal_aid"].connected == 1
    # health: c1 c2 c3 c5 c6 c7 c9 c10 c11; connected c1 c2 c3 c5 c9
    assert (by_category["health"].cases, by_category["health"].connected) == (9, 5)


def test_by_month_counts_the_first_need(world, known):
    counts = ind.connected_by_unit_and_month(world.province, H1, "90")
    per_month = {}
    for (_, y, m), c in counts.items():
        per_month[(y, m)] = per_month.get((y, m), 0) + c.cases
    assert per_month == {(2026, 1): 3, (2026, 3): 3, (2026, 4): 1, (2026, 5): 1, (2026, 6): 1}


def test_median_days(world, known):
    days = sorted(d for _, d in ind.days_to_service(world.province, H1, "90"))
    assert days == [10, 15, 19, 26, 30, 31]
    report = build_report(world.province, H1, "90", protected=False, k=5, today=TODAY)
    assert report.total.cells["median_days"].value == 22.5


def test_overdue_and_reasons(world, known):
    assert ind.overdue_by_unit(world.province, TODAY) == {world.commune_a.id: 1}
    reasons = ind.referrals_by_reason(world.province, H1)
    assert reasons["no_capacity"] == 1 and reasons["no_show"] == 1
    assert reasons["enrolled"] == 1


def test_report_rows_per_child_unit(world, known):
    report = build_report(world.province, H1, "90", protected=False, k=5, today=TODAY)
    by_key = {row.key: row for row in report.rows}
    assert [r.key for r in report.rows] == ["37-A", "37-B", "total"]
    a, b, total = by_key["37-A"], by_key["37-B"], by_key["total"]
    # A: c1 c2 c3 c9 c11 (5 cases, 4 connected); B: c5 c6 c7 c10 (4 cases, 2 connected)
    assert (a.cells["cases"].value, a.cells["connected"].value) == (5, 4)
    assert (b.cells["cases"].value, b.cells["connected"].value) == (4, 2)
    assert (total.cells["cases"].value, total.cells["connected"].value) == (9, 6)
    assert total.cells["rate"].text == "66.7%"
    assert total.cells["declined"].value == 1
    assert total.cells["overdue"].value == 1


def test_subtree_only(world, known):
    report = build_report(world.district_a, H1, "90", protected=False, k=5, today=TODAY)
    assert report.total.cells["cases"].value == 5
    assert [r.key for r in report.rows] == ["37-A1", "total"]
