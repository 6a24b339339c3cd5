"""The statutory periods of Decree 09/2019 (and a plan's own cut-off days) are counted by the
figures tables themselves: the official report's figures are over the period it names."""

from __future__ import annotations

import json
from datetime import date

import pytest
import sqlalchemy as sa

from app import jobs
from app.audit.models import AuditEvent
from app.extensions import db
from app.orgs.models import OrgUnit
from app.reports import disclosure, figures, layout, official, periods
from app.reports import indicators as ind
from app.reports.models import CaseFigure, PeriodRule, Plan
from app.reports.official_models import OfficialReportRule, RuleDates
from tests.conftest import audit_actions
from tests.reports.conftest import second_client
from tests.reports.test_figures import _snapshot
from tests.reports.test_plans import FORM
from tests.test_migrations import empty_database  # noqa: F401  (fixture)

SIX_2026 = periods.statutory_period("six_monthly", 2026)
H1_2026 = periods.fixed_period(2026, 1)
# A plan's own cut-offs: 1 December to 31 May, and to 30 November.
OWN = RuleDates(start=(12, 1), six_monthly_end=(5, 31), annual_end=(11, 30))
OWN_FORM = {"report_start": "01/12", "six_monthly_end": "31/05", "annual_end": "30/11"}


def _people(unit, period) -> tuple[int, int]:
    """(cases counted, connected) of the subtree over the period, exact."""
    counts = ind.Counts()
    for c in ind.connected_by_unit_and_month(unit, period, "period").values():
        counts.add(c)
    return counts.cases, counts.connected


@pytest.fixture
def edges(world, population):
    """Cases whose only need sits on either side of each edge of 2026's six-monthly period."""
    out = {}
    for name, day in {
        "d14_12": date(2025, 12, 14),
        "d15_12": date(2025, 12, 15),
        "d16_12": date(2025, 12, 16),
        "d05_12": date(2025, 12, 5),
        "d14_06": date(2026, 6, 14),
        "d15_06": date(2026, 6, 15),
    }.items():
        case = population.case(world.commune_a)
        need = population.need(case, day)
        population.referral(case, need, "completed", completed_on=day)
        out[name] = case
    return out


def _has_row(case, period) -> bool:
    key = periods.counted_periods(db.session.connection()).key_of(period)
    return bool(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(CaseFigure)
            .where(
                CaseFigure.case_id == case.id,
                CaseFigure.year == key[0],
                CaseFigure.half == key[1],
                CaseFigure.category == "",
                CaseFigure.counted,
            )
        )
    )


def test_a_2026_six_monthly_report_covers_15_12_2025_to_14_06_2026(world, edges):
    assert SIX_2026 == periods.Period(date(2025, 12, 15), date(2026, 6, 14))
    inside = {name for name, case in edges.items() if _has_row(case, SIX_2026)}
    assert inside == {"d15_12", "d16_12", "d14_06"}
    assert _people(world.province, SIX_2026) == (3, 3)
    # The December need is shown in its own month of the period's trend.
    months = ind.connected_by_unit_and_month(world.province, SIX_2026, "period")
    assert {(y, m) for _uid, y, m in months} == {(2025, 12), (2026, 6)}
    # The annual period of 2026 (to 14/12/2026) has them and the 15/06 need; 2025's has 14/12.
    annual = periods.statutory_period("annual", 2026)
    assert _people(world.province, annual) == (4, 4)
    assert _people(world.province, periods.statutory_period("annual", 2025)) == (2, 2)


def test_the_official_report_prints_the_figures_of_its_own_period(world, edges):
    doc = official.build(world.province, "six_monthly", 2026, date(2026, 7, 20))
    assert doc.period == SIX_2026
    assert doc.previous_period == periods.statutory_period("six_monthly", 2025)
    assert doc.until is None
    # Its "cases" line is the protected figure of exactly those three people.
    totals = {label: now for label, now, _before in doc.totals}
    wanted = layout.build_report(
        world.province, SIX_2026, "period", protected=True, k=5, today=date(2026, 7, 20)
    )
    assert totals[str(layout.COLUMNS["cases"])] == wanted.total.cells["cases"].text


def test_a_report_made_before_its_period_ends_says_up_to_which_day(world, edges):
    doc = official.build(world.province, "six_monthly", 2026, date(2026, 6, 1))
    assert doc.until == date(2026, 5, 31)


def test_the_same_people_publish_the_same_figure_in_a_statutory_and_a_calendar_table(
    world, population
):
    """Every need between 01/01 and 14/06: the six-monthly period and the first half of 2026
    count the same people, so the cell-key method must publish the same values for them."""
    for n in range(9):
        case = population.case(world.commune_a if n % 2 else world.commune_b)
        need = population.need(case, date(2026, 1 + n % 5, 3 + n))
        if n % 3:
            population.referral(case, need, "completed", completed_on=date(2026, 6, 1))
    statutory = ind.case_figures(world.province, SIX_2026, "90")
    calendar = ind.case_figures(world.province, H1_2026, "90")
    assert statutory.by_unit_month == calendar.by_unit_month  # counts and key sums alike
    reports = [
        layout.build_report(world.province, p, "90", protected=True, k=5, today=date(2026, 7, 20))
        for p in (SIX_2026, H1_2026)
    ]
    for column in ("cases", "connected", "rate"):
        assert reports[0].total.cells[column] == reports[1].total.cells[column]
    assert [r.cells for r in reports[0].rows] == [r.cells for r in reports[1].rows]
    disclosure.release(reports[0])


def _province_plan() -> Plan:
    from app.reports import demo

    demo.seed("unused")
    db.session.commit()
    return db.session.scalar(sa.select(Plan))


def test_a_plans_own_cut_offs_change_the_period_after_the_rebuild(client, world, edges, login_as):
    plan = _province_plan()
    db.session.commit()
    login_as(world.users["admin"])
    response = client.post(f"/reports/plans/{plan.id}/edit", data=FORM | OWN_FORM)
    assert response.status_code == 302
    rule = db.session.scalar(sa.select(OfficialReportRule))
    assert (rule.plan_id, rule.dates) == (plan.id, OWN)
    event = db.session.scalar(
        sa.select(AuditEvent)
        .where(AuditEvent.action == "plan.updated")
        .order_by(AuditEvent.seq.desc())
    )
    details = json.loads(event.details)
    assert "report_rule" in details["changed_fields"]
    assert details["report_rule"] == "01/12-31/05-30/11"
    assert details["figures_rebuild"] is True
    # Until the rebuild has run, the report says so rather than print part of the figures.
    client, _response = second_client(client, world.users["supervisor"].username)
    pending = client.get("/reports/official/?kind=six_monthly&year=2026")
    assert pending.status_code == 503
    assert "đang được tính lại" in pending.get_data(as_text=True)
    assert client.get("/reports/official/report.xlsx?kind=six_monthly&year=2026").status_code == 503

    assert jobs.drain() >= 1  # the rebuild job the change queued
    own = periods.statutory_period("six_monthly", 2026, OWN)
    assert own == periods.Period(date(2025, 12, 1), date(2026, 5, 31))
    assert {n for n, c in edges.items() if _has_row(c, own)} == {
        "d05_12",
        "d14_12",
        "d15_12",
        "d16_12",
    }
    page = client.get("/reports/official/?kind=six_monthly&year=2026")
    assert page.status_code == 200
    assert "Kỳ báo cáo: từ ngày 01/12/2025 đến ngày 31/05/2026" in page.get_data(as_text=True)
    # Decree 09's periods are still counted: other plans' reports keep them.
    assert _people(world.province, SIX_2026) == (3, 3)


def test_cut_offs_already_counted_need_no_rebuild(client, world, login_as):
    plan = _province_plan()
    login_as(world.users["admin"])
    calendar = {"report_start": "01/01", "six_monthly_end": "30/06", "annual_end": "31/12"}
    assert client.post(f"/reports/plans/{plan.id}/edit", data=FORM | calendar).status_code == 302
    assert jobs.drain() == 1
    # A second plan with the same days: its periods are counted already.
    second = FORM | calendar | {"name": "Kế hoạch thứ hai"}
    assert client.post("/reports/plans/new", data=second).status_code == 302
    assert jobs.drain() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficialReportRule)) == 2


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"report_start": "31/04"}, "Ngày này không có trong năm."),
        ({"report_start": "29/02"}, "Ngày này không có trong năm."),
        ({"six_monthly_end": "giữa năm"}, "Hãy nhập ngày theo dạng ngày/tháng"),
        ({"six_monthly_end": "20/12"}, "Kỳ 6 tháng phải kết thúc sau ngày đầu kỳ"),
        ({"annual_end": "31/12"}, "Kỳ báo cáo năm không được dài quá một năm."),
    ],
)
def test_impossible_cut_offs_are_refused_and_nothing_changes(
    client, world, login_as, fields, message
):
    plan = _province_plan()
    login_as(world.users["admin"])
    before = len(audit_actions())
    response = client.post(f"/reports/plans/{plan.id}/edit", data=FORM | fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OfficialReportRule)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(PeriodRule)) == 0
    assert len(audit_actions()) == before
    assert jobs.drain() == 0


def test_the_edit_page_shows_the_plans_cut_offs(client, world, login_as):
    plan = _province_plan()
    login_as(world.users["admin"])
    page = client.get(f"/reports/plans/{plan.id}/edit").get_data(as_text=True)
    assert 'value="15/12"' in page and 'value="14/06"' in page and 'value="14/12"' in page
    client.post(f"/reports/plans/{plan.id}/edit", data=FORM | OWN_FORM)
    page = client.get(f"/reports/plans/{plan.id}/edit").get_data(as_text=True)
    assert 'value="01/12"' in page and 'value="31/05"' in page and 'value="30/11"' in page


def test_incremental_figures_equal_a_rebuild_with_two_counted_rules(world, known, population):
    periods.register_rule(db.session.connection(), OWN)
    figures.rebuild(db.session.connection())
    case = known["c1"]
    population.need(case, date(2025, 12, 3), "legal_aid")  # in OWN's 2026 periods only
    late = population.need(known["c11"], date(2026, 6, 10), "jobs")  # in Decree 09's only
    population.referral(known["c11"], late, "completed", completed_on=date(2026, 6, 12))
    case.org_unit_id = world.commune_b.id
    db.session.flush()
    kept = _snapshot()
    figures.rebuild(db.session.connection())
    assert _snapshot() == kept
    assert any(row[1] == 22 for row in kept["report_case_counts"])  # OWN's six-monthly (rule 2)


def test_a_rule_no_plan_uses_stops_being_counted_at_the_next_rebuild(world, known):
    from app.permissions import Actor
    from app.reports import services

    plan = _province_plan()
    rule = OfficialReportRule(plan_id=plan.id, start_month=12, start_day=1)
    rule.six_monthly_end_month, rule.six_monthly_end_day = OWN.six_monthly_end
    rule.annual_end_month, rule.annual_end_day = OWN.annual_end
    db.session.add(rule)
    db.session.flush()
    periods.register_rule(db.session.connection(), OWN)
    services.rebuild_figures(Actor.system("reports-rebuild"))
    assert db.session.scalar(sa.select(sa.func.count()).where(CaseFigure.half == 21)) > 0
    assert ind.is_counted(periods.statutory_period("six_monthly", 2026, OWN))
    db.session.delete(rule)  # the plan is back on Decree 09's days
    db.session.commit()
    services.rebuild_figures(Actor.system("reports-rebuild"))
    assert db.session.scalar(sa.select(sa.func.count()).where(CaseFigure.half == 21)) == 0
    assert not ind.is_counted(periods.statutory_period("six_monthly", 2026, OWN))
    assert ind.is_counted(SIX_2026)
    assert "report.figures_rebuilt" in audit_actions()


@pytest.mark.real_db
def test_an_upgraded_database_says_pending_until_the_rebuild(tmp_path, empty_database):  # noqa: F811
    """Figures kept before statutory periods were counted have no rows for them: after the
    migration Decree 09's rule and every plan's own days are pending until the rebuild."""
    from flask_migrate import upgrade

    from app import create_app
    from app.permissions import Actor
    from app.reports import services
    from tests.conftest import make_config
    from tests.test_migrations import _row

    migrated = create_app(make_config(tmp_path, empty_database))
    with migrated.app_context():
        upgrade(revision="ece1b65ff8a4")  # the revision before statutory periods
        with db.engine.begin() as conn:
            meta = sa.MetaData()
            names = ("org_units", "cases", "needs", "plans", "official_report_rules")
            names += ("report_case_figures",)
            t = {name: sa.Table(name, meta, autoload_with=conn) for name in names}
            unit = conn.execute(
                t["org_units"]
                .insert()
                .values(_row(t["org_units"], code="37", name="Ninh Bình", path="/37/"))
            ).inserted_primary_key[0]
            case = conn.execute(
                t["cases"].insert().values(_row(t["cases"], code="NB-2026-00001", org_unit_id=unit))
            ).inserted_primary_key[0]
            conn.execute(
                t["needs"]
                .insert()
                .values(
                    _row(t["needs"], case_id=case, category="jobs", status="open")
                    | {"identified_on": date(2025, 12, 20)}
                )
            )
            conn.execute(
                t["report_case_figures"]
                .insert()
                .values(
                    _row(t["report_case_figures"], case_id=case, org_unit_id=unit)
                    | {"year": 2025, "half": 2, "category": "", "counted": True}
                )
            )
            plan = conn.execute(
                t["plans"]
                .insert()
                .values(
                    _row(t["plans"], org_unit_id=unit, name="KH")
                    | {"period_start": date(2026, 1, 1), "period_end": date(2026, 12, 31)}
                )
            ).inserted_primary_key[0]
            conn.execute(
                t["official_report_rules"]
                .insert()
                .values(
                    plan_id=plan,
                    start_month=12,
                    start_day=1,
                    six_monthly_end_month=5,
                    six_monthly_end_day=31,
                    annual_end_month=11,
                    annual_end_day=30,
                )
            )
        upgrade()
        assert periods.pending_rules(db.session.connection()) == {1, 2}
        assert not ind.is_counted(SIX_2026)
        db.session.rollback()
        services.rebuild_figures(Actor.system("reports-rebuild"))
        assert periods.pending_rules(db.session.connection()) == set()
        assert ind.is_counted(SIX_2026)
        assert ind.is_counted(periods.statutory_period("six_monthly", 2026, OWN))
        assert _people(db.session.get(OrgUnit, unit), SIX_2026) == (1, 0)
        db.session.remove()
        db.engine.dispose()
