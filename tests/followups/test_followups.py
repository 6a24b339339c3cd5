"""Follow-ups and the case plan through the pages: set, assign, tick, review; refusals;
audit; the assignee told; the reminder once; "Việc hôm nay" first on the home page."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.followups.models import CaseGoal, FollowUp
from app.followups.tasks import remind_followups
from app.notifications.kinds import Kind
from app.notifications.models import Notification
from app.referrals.status import local_today
from tests.conftest import audit_actions

ROLES = ["volunteer", "caseworker", "caseworker_b", "supervisor", "partner", "admin"]


def _denied() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.outcome == "denied"))


def _form(world, **overrides) -> dict:
    data = {
        "f-due_on": local_today().isoformat(),
        "f-task": "Gọi lại sau khám cho chị",
        "f-assignee_id": str(world.users["volunteer"].id),
        "f-referral_id": "0",
    }
    data.update(overrides)
    return data


def _kinds(user) -> list[str]:
    return list(
        db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id))
    )


def test_a_caseworker_sets_a_followup_for_a_volunteer(loop, world, client_for):
    client = client_for(world.users["caseworker"])
    page = client.get(f"/cases/{loop.case.code}/plan")
    assert page.status_code == 200
    assert world.users["volunteer"].display_name in page.get_data(as_text=True)
    response = client.post(f"/cases/{loop.case.code}/followups", data=_form(world))
    assert response.status_code == 302
    followup = db.session.scalar(sa.select(FollowUp))
    assert followup.assigned_to_id == world.users["volunteer"].id
    assert followup.due_on == local_today()
    assert "khám".encode() not in followup.task_enc
    assert "followup.created" in audit_actions()
    assert _kinds(world.users["volunteer"]) == [Kind.FOLLOWUP_ASSIGNED]
    assert "Gọi lại sau khám cho chị" in client.get(f"/cases/{loop.case.code}/plan").get_data(
        as_text=True
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("f-task", "   ", "Hãy ghi việc cần làm."),
        ("f-task", "x" * 201, "Việc cần làm quá dài"),
        ("f-due_on", "2020-01-01", "Hãy chọn ngày hẹn từ hôm nay trở đi."),
        ("f-due_on", "31/02/2027", "Ngày không hợp lệ"),
        ("f-assignee_id", "volunteer_b", "Người được giao không thuộc đơn vị của hồ sơ."),
    ],
)
def test_bad_followups_are_refused_and_change_nothing(
    loop, world, client_for, field, value, message
):
    if value == "volunteer_b":
        value = str(world.users["volunteer_b"].id)
    client = client_for(world.users["caseworker"])
    before = len(audit_actions())
    response = client.post(
        f"/cases/{loop.case.code}/followups", data=_form(world, **{field: value})
    )
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(FollowUp)) == 0
    assert len(audit_actions()) == before


def test_a_followup_on_another_cases_referral_is_refused(loop, world, client_for):
    client = client_for(world.users["caseworker"])
    response = client.post(
        f"/cases/{loop.case.code}/followups", data=_form(world, **{"f-referral_id": "987654"})
    )
    assert response.status_code == 400
    assert "Chuyển gửi không thuộc hồ sơ này." in response.get_data(as_text=True)


@pytest.mark.parametrize("role", ROLES)
def test_plan_page_matrix(loop, world, client_for, role):
    client = client_for(world.users[role])
    before = _denied()
    get = client.get(f"/cases/{loop.case.code}/plan")
    post = client.post(f"/cases/{loop.case.code}/followups", data=_form(world))
    expected = {"caseworker": (200, 302), "caseworker_b": (404, 404)}.get(role, (403, 403))
    assert (get.status_code, post.status_code) == expected
    if role != "caseworker":
        assert _denied() == before + 2


@pytest.fixture
def followup(loop, world, client_for):
    client = client_for(world.users["caseworker"])
    client.post(f"/cases/{loop.case.code}/followups", data=_form(world))
    return db.session.scalar(sa.select(FollowUp))


@pytest.mark.parametrize("role", ROLES)
def test_tick_matrix(world, followup, client_for, role):
    client = client_for(world.users[role])
    before = _denied()
    response = client.post(f"/followups/{followup.id}/done")
    expected = {"volunteer": 302, "caseworker": 302, "caseworker_b": 404, "volunteer_b": 404}
    assert response.status_code == expected.get(role, 403)
    db.session.expire_all()
    assert (db.session.get(FollowUp, followup.id).done_at is not None) == (
        response.status_code == 302
    )
    if response.status_code != 302:
        assert _denied() == before + 1


def test_the_volunteer_sees_it_first_on_her_home_and_ticks_it(world, followup, client_for):
    client = client_for(world.users["volunteer"])
    html = client.get("/home").get_data(as_text=True)
    assert html.index("Việc hôm nay") < html.index('class="cards"')
    assert "Gọi lại sau khám cho chị" in html
    response = client.post(f"/followups/{followup.id}/done", data={"next": "/home"})
    assert response.status_code == 302 and response.headers["Location"] == "/home"
    assert "followup.done" in audit_actions()
    assert "Gọi lại sau khám cho chị" not in client.get("/home").get_data(as_text=True)
    caseworker = client_for(world.users["caseworker"])
    assert caseworker.post(f"/followups/{followup.id}/reopen").status_code == 302
    assert "followup.reopened" in audit_actions()


def test_the_reminder_is_written_once(world, followup):
    assert remind_followups() == 1
    assert remind_followups() == 0
    assert _kinds(world.users["volunteer"]).count(Kind.FOLLOWUP_DUE) == 1


def test_a_future_followup_is_not_reminded_yet(loop, world, client_for):
    client = client_for(world.users["caseworker"])
    tomorrow = (local_today() + timedelta(days=1)).isoformat()
    client.post(f"/cases/{loop.case.code}/followups", data=_form(world, **{"f-due_on": tomorrow}))
    assert remind_followups() == 0


def test_the_case_plan_keeps_a_goal_per_need_and_its_review(loop, world, client_for):
    client = client_for(world.users["caseworker"])
    url = f"/cases/{loop.case.code}/plan/{loop.need.id}"
    prefix = f"g{loop.need.id}-"
    target = (date.today() + timedelta(days=30)).isoformat()
    data = {prefix + "goal": "Khám và nhận kết quả", prefix + "target_on": target}
    assert client.post(url, data=data).status_code == 302
    goal = db.session.scalar(sa.select(CaseGoal))
    assert goal.target_on.isoformat() == target and "Khám".encode() not in goal.goal_enc
    assert audit_actions()[-1] == "caseplan.goal_set"
    data[prefix + "review_note"] = "Đã khám ngày 15, chờ kết quả"
    assert client.post(url, data=data).status_code == 302
    assert audit_actions()[-1] == "caseplan.reviewed"
    html = client.get(f"/cases/{loop.case.code}/plan").get_data(as_text=True)
    assert "Đã khám ngày 15, chờ kết quả" in html
    count = len(audit_actions())
    assert client.post(url, data=data).status_code == 302  # nothing changed: nothing audited
    assert len(audit_actions()) == count
    empty = client.post(url, data={prefix + "goal": " "})
    assert empty.status_code == 400
    assert "Hãy ghi mục tiêu cho nhu cầu này." in empty.get_data(as_text=True)


def test_a_goal_for_another_cases_need_is_not_found(loop, world, client_for):
    from tests.referrals.factories import make_case

    other = make_case(world.commune_a)
    db.session.commit()
    client = client_for(world.users["caseworker"])
    url = f"/cases/{loop.case.code}/plan/{other.needs[0].id}"
    assert client.post(url, data={f"g{other.needs[0].id}-goal": "x"}).status_code == 404


def test_the_caseworker_home_lists_the_days_work_in_order(loop, world, client_for):
    from app.cases import services as cases
    from app.referrals import services as referrals
    from tests.referrals.conftest import actor

    cw = world.users["caseworker"]
    client = client_for(cw)
    client.post(
        f"/cases/{loop.case.code}/followups",
        data=_form(world, **{"f-assignee_id": str(cw.id), "f-task": "Hẹn gặp ngày 15"}),
    )
    referral = referrals.create_referral(
        actor(cw), loop.case, loop.need, loop.hiv_testing, fields=["need"]
    )
    referrals.send_referral(actor(cw), referral, today=date.today() - timedelta(days=10))
    referrals.transition(actor(loop.partner), referral, "accepted")
    draft = referrals.create_referral(
        actor(cw), loop.case, loop.need, loop.hiv_testing, fields=["need"]
    )
    cases.request_transfer(actor(world.users["caseworker_b"]), _case_b(world), world.district_a.id)
    db.session.commit()
    html = client.get("/home").get_data(as_text=True)
    # Codes in the sentences are kept whole on a phone (one mono span each); read them as text.
    assert f'<span class="mono">{loop.case.code}</span>' in html
    html = re.sub(r'<span class="mono">([^<]*)</span>', r"\1", html)
    order = [
        html.index("Việc theo dõi quá hạn và đến hạn"),
        html.index("Hẹn gặp ngày 15"),
        html.index("Chuyển gửi chờ tôi xử lý"),
        html.index(f"#{draft.id} · {loop.case.code}"),
        html.index("Hồ sơ chờ tiếp nhận"),
        html.index("Trả lời mới của cơ sở dịch vụ"),
        html.index(f"Chuyển gửi #{referral.id} (hồ sơ {loop.case.code})"),
        html.index('class="cards"'),
    ]
    assert order == sorted(order)


def _case_b(world):
    from tests.referrals.factories import make_case

    return make_case(world.commune_b, user=world.users["caseworker_b"])


def test_the_partner_home_starts_with_referrals_waiting_for_an_answer(loop, world, client_for):
    from app.referrals import services as referrals
    from tests.referrals.conftest import actor

    cw = actor(world.users["caseworker"])
    referral = referrals.create_referral(
        cw, loop.case, loop.need, loop.hiv_testing, fields=["need"]
    )
    referrals.send_referral(cw, referral)
    db.session.commit()
    html = client_for(loop.partner).get("/home").get_data(as_text=True)
    assert html.index("Chuyển gửi chờ cơ sở trả lời") < html.index(f"#{referral.id} · ")
    assert html.index(f"#{referral.id} · ") < html.index('class="cards"')
    assert loop.case.code not in html  # partners never see the case code
    other = client_for(loop.partner_b).get("/home").get_data(as_text=True)
    assert f"#{referral.id} · " not in other
