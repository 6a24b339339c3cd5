"""The figures tables the reports count stay equal to the case data through every kind of change,
inside the transaction that makes it, and `rebuild` recomputes exactly the same rows."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa
from hypothesis import given
from hypothesis import strategies as st

from app.cases import services as case_services
from app.cases.models import Consent, Need
from app.extensions import db
from app.permissions import Actor
from app.referrals.models import Referral
from app.reports import figures
from app.reports import indicators as ind
from app.reports.models import CaseFigure, ReferralFigure
from tests.conftest import audit_actions

H1 = ind.Period(date(2026, 1, 1), date(2026, 6, 30))
YEAR = ind.Period(date(2026, 1, 1), date(2026, 12, 31))


def _snapshot() -> dict[str, list[tuple]]:
    """Every figures row, and every count that is not zero."""
    out = {}
    for model in (*figures.FIGURES, *figures.COUNTS):
        table = model.__table__
        stmt = sa.select(table).order_by(*table.primary_key.columns)
        if "n" in table.c:
            stmt = stmt.where(table.c.n != 0)
        out[table.name] = [tuple(r) for r in db.session.execute(stmt)]
    return out


def _by_unit(unit, period=H1, window="90") -> dict[int, tuple[int, int]]:
    out: dict[int, tuple[int, int]] = {}
    for (uid, _y, _m), c in ind.connected_by_unit_and_month(unit, period, window).items():
        cases, connected = out.get(uid, (0, 0))
        out[uid] = (cases + c.cases, connected + c.connected)
    return out


def test_rebuild_recomputes_the_rows_kept_on_every_flush(world, known):
    kept = _snapshot()
    assert all(kept.values())
    figures.rebuild(db.session.connection())
    assert _snapshot() == kept


def test_a_case_counts_in_its_half_year_and_in_its_year(world, known):
    c9 = known["c9"]  # need 30/06, service 15/07
    rows = db.session.execute(
        sa.select(CaseFigure.year, CaseFigure.half, CaseFigure.best_days).where(
            CaseFigure.case_id == c9.id, CaseFigure.category == ""
        )
    ).all()
    # The calendar year and first half, and Decree 09's annual period of 2026 (code 12); not
    # its six-monthly period (code 11), which ended on 14/06.
    assert sorted(rows) == [(2026, 0, 15), (2026, 1, 15), (2026, 12, 15)]
    # Within "the period": not by the end of June, but by the end of the year.
    assert known["c9"].code in ind.not_connected_cases(world.province, H1, "period")
    assert known["c9"].code not in ind.not_connected_cases(world.province, YEAR, "period")


def test_withdrawing_consent_through_the_service_disconnects_at_once(world, known):
    before = _by_unit(world.province)[world.commune_a.id]
    case = known["c1"]
    consent = db.session.scalar(
        sa.select(Consent).where(Consent.case_id == case.id, Consent.purpose == "record")
    )
    case_services.withdraw_consent(
        Actor.from_user(world.users["caseworker"]), case, consent, reason="her_request"
    )
    after = _by_unit(world.province)[world.commune_a.id]
    assert after == (before[0], before[1] - 1)


def test_a_transferred_case_counts_in_its_new_unit(world, known):
    before = _by_unit(world.province)
    case = known["c1"]
    case.org_unit_id = world.commune_b.id
    db.session.flush()
    after = _by_unit(world.province)
    a, b = world.commune_a.id, world.commune_b.id
    assert after[a] == (before[a][0] - 1, before[a][1] - 1)
    assert after[b] == (before[b][0] + 1, before[b][1] + 1)
    assert set(ind.referral_figures(world.district_b, H1, date(2026, 7, 20), 7).statuses) >= {
        (b, "completed")
    }


def test_a_service_marked_entered_in_error_no_longer_connects(world, known):
    before = _by_unit(world.province)[world.commune_a.id]
    referral = db.session.scalar(sa.select(Referral).where(Referral.case_id == known["c1"].id))
    referral.status = "entered-in-error"
    db.session.flush()
    assert _by_unit(world.province)[world.commune_a.id] == (before[0], before[1] - 1)
    assert not db.session.scalar(
        sa.select(sa.func.count())
        .select_from(ReferralFigure)
        .where(ReferralFigure.referral_id == referral.id)
    )


def test_a_declined_need_is_counted_apart(world, known):
    need = db.session.scalar(sa.select(Need).where(Need.case_id == known["c1"].id))
    need.status = "declined"
    db.session.flush()
    assert ind.declined_by_unit(world.province, H1)[world.commune_a.id] == 1


def test_bulk_inserts_refresh_their_cases_and_bulk_updates_are_refused(world, known):
    case = known["c4"]  # only a declined need so far
    db.session.execute(
        sa.insert(Need),
        [{"case_id": case.id, "category": "jobs", "identified_on": date(2026, 2, 3)}],
    )
    assert ind.declined_by_unit(world.province, H1).get(world.commune_b.id) is None
    with pytest.raises(RuntimeError, match="figures"):
        db.session.execute(sa.update(Need).where(Need.case_id == case.id).values(status="met"))


def test_only_calendar_years_and_halves_are_counted(world, known):
    with pytest.raises(ValueError, match="half-year"):
        ind.case_figures(world.province, ind.Period(date(2026, 2, 1), date(2026, 3, 31)), "90")


def test_rebuild_command_recomputes_and_is_audited(app, world, known):
    db.session.execute(sa.delete(CaseFigure.__table__))
    result = app.test_cli_runner().invoke(args=["reports", "rebuild-figures"])
    assert result.exit_code == 0, result.output
    assert "figures recomputed for" in result.output
    assert _by_unit(world.province)[world.commune_a.id][0] > 0
    assert audit_actions()[-1] == "report.figures_rebuilt"


@given(st.lists(st.integers(min_value=0, max_value=400), max_size=60))
def test_median_of_a_histogram_is_the_median_of_its_days(days):
    expected = statistics.median(days) if days else None
    assert ind.median_days(Counter(days)) == expected


def test_rebuild_service_works_in_audited_steps(world, known, monkeypatch):
    """`flask reports rebuild-figures` commits step by step, each step with its own event, and
    mends counts that were wrong (not only missing)."""
    from app.reports import services as report_services
    from app.reports.models import CaseCount

    kept = _snapshot()
    db.session.execute(sa.update(CaseCount.__table__).values(n=CaseCount.n + 7))
    db.session.execute(sa.delete(CaseFigure.__table__).where(CaseFigure.case_id == known["c9"].id))
    db.session.commit()
    assert _snapshot() != kept
    monkeypatch.setattr(report_services, "REBUILD_CASES", 2)
    monkeypatch.setattr(report_services, "REBUILD_UNITS", 1)
    before = len(audit_actions())
    count = report_services.rebuild_figures(Actor.system("reports-rebuild"))
    assert _snapshot() == kept
    steps = audit_actions()[before:]
    assert set(steps) == {"report.figures_rebuilt"}
    from app.cases.models import Case

    assert count == db.session.scalar(sa.select(sa.func.count()).select_from(Case))
    assert len(steps) >= 3
