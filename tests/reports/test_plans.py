"""Admins record plans and targets; every change is audited."""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa

from app.extensions import db
from app.reports.models import Plan
from tests.conftest import audit_actions
from tests.reports.conftest import second_client

FORM = {
    "org_unit": "37",
    "name": "Kế hoạch phòng, chống mại dâm năm 2026",
    "number": "123/KH-UBND",
    "issuing_body": "UBND tỉnh",
    "period_start": "2026-01-01",
    "period_end": "31/12/2026",
    "connected_rate": "80",
    "communes_with_outreach": "100",
    "referrals_answered": "90",
    "answer_days": "7",
    "reached_wu_members": "2000",
}


def _plan() -> Plan:
    return db.session.execute(sa.select(Plan)).scalar_one()


def test_admin_creates_and_edits_a_plan(client, world, login_as):
    login_as(world.users["admin"])
    assert client.get("/reports/plans/new").status_code == 200
    response = client.post("/reports/plans/new", data=FORM)
    assert response.status_code == 302
    plan = _plan()
    assert plan.org_unit_id == world.province.id
    targets = {(t.indicator, t.audience): t for t in plan.targets}
    assert targets[("connected_rate", None)].value == Decimal("80")
    assert targets[("referrals_answered", None)].days == 7
    assert targets[("people_reached", "wu_members")].value == Decimal("2000")
    assert "plan.created" in audit_actions()

    page = client.get(f"/reports/plans/{plan.id}/edit").get_data(as_text=True)
    assert "123/KH-UBND" in page
    response = client.post(
        f"/reports/plans/{plan.id}/edit",
        data=FORM | {"connected_rate": "100", "reached_wu_members": ""},
    )
    assert response.status_code == 302
    db.session.expire_all()
    targets = {(t.indicator, t.audience): t for t in _plan().targets}
    assert targets[("connected_rate", None)].value == Decimal("100")
    assert ("people_reached", "wu_members") not in targets
    assert audit_actions()[-1] == "plan.updated"
    assert "123/KH-UBND" in client.get("/reports/plans").get_data(as_text=True)


def test_bad_plan_is_refused_with_a_message(client, world, login_as):
    login_as(world.users["admin"])
    response = client.post("/reports/plans/new", data=FORM | {"period_end": "2025-01-01"})
    assert response.status_code == 400
    assert "Ngày kết thúc phải sau ngày bắt đầu." in response.get_data(as_text=True)
    response = client.post("/reports/plans/new", data=FORM | {"connected_rate": "120"})
    assert response.status_code == 400
    assert "từ 0 đến 100" in response.get_data(as_text=True)
    assert db.session.execute(sa.select(sa.func.count(Plan.id))).scalar() == 0


def test_plans_may_overlap_and_show_on_the_dashboard(client, world, login_as):
    login_as(world.users["admin"])
    client.post("/reports/plans/new", data=FORM)
    client.post(
        "/reports/plans/new",
        data=FORM | {"org_unit": "37-A", "name": "Kế hoạch huyện A", "connected_rate": "100"},
    )
    assert db.session.execute(sa.select(sa.func.count(Plan.id))).scalar() == 2
    other, _signed_in = second_client(client, "caseworker")
    html = other.get("/reports/?period=2026").get_data(as_text=True)
    assert "Kế hoạch huyện A" in html and FORM["name"] in html


def test_plan_outside_the_admins_subtree_is_404(client, world, login_as):
    from app.orgs.models import OrgLevel
    from tests.factories import OrgUnitFactory, UserFactory

    other_province = OrgUnitFactory(code="38", name="Tỉnh khác", level=OrgLevel.PROVINCE)
    UserFactory(username="admin38", role="admin", org_unit=other_province)
    db.session.commit()
    login_as(world.users["admin"])
    client.post("/reports/plans/new", data=FORM)
    plan = _plan()
    other, _signed_in = second_client(client, "admin38")
    assert other.get(f"/reports/plans/{plan.id}/edit").status_code == 404
    assert other.post("/reports/plans/new", data=FORM).status_code == 400  # 37 not a choice


def test_only_admins_manage_plans(client, world, login_as):
    login_as(world.users["supervisor"])
    assert client.get("/reports/plans/new").status_code == 403


def test_demo_seeds_the_province_plan_once(world):
    from app.reports import demo

    demo.seed("unused password")
    demo.seed("unused password")
    plan = _plan()
    assert plan.org_unit_id == world.province.id
    assert plan.target_for("connected_rate").value == Decimal("80")
    assert plan.period_start.year == plan.period_end.year == 2026
