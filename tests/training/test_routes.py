"""The training pages through the test client: entering, correcting, deleting, staff in post,
and every refusal (other roles 403, another unit's session 404), each audited."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.permissions import Actor
from app.training import services
from app.training.models import StaffInPost, TrainingSession
from tests.conftest import audit_actions
from tests.training.conftest import entry, form_data


def live_sessions() -> list[TrainingSession]:
    return list(
        db.session.scalars(sa.select(TrainingSession).where(TrainingSession.deleted_at.is_(None)))
    )


def denials() -> int:
    return db.session.scalar(
        sa.select(sa.func.count(AuditEvent.seq)).where(AuditEvent.outcome == "denied")
    )


@pytest.fixture
def session_a(world):
    """A session of district A (caseworker's subtree, not caseworker_b's)."""
    s = services.create_session(
        Actor.from_user(world.users["caseworker"]),
        entry(world.district_a, headcounts=[services.Headcount(world.commune_a.id, 2, 1)]),
    )
    db.session.commit()
    return s


def test_the_caseworker_enters_a_session_through_the_page(world, client_for):
    client = client_for(world.users["caseworker"])
    page = client.get("/training/new")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Ghi lớp tập huấn" in html and "Trực tuyến" in html
    assert "Huyện A" in html and "Huyện B" not in html  # units of the subtree only
    assert "caseworker_b" not in html and "(partner" not in html  # attendees of the subtree
    assert "<script>" not in html and "style=" not in html
    response = client.post(
        "/training/new",
        data=form_data(
            world.district_a,
            attendees=[world.users["caseworker"]],
            lines=[(world.commune_a, 3, 4)],
        ),
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    [s] = live_sessions()
    assert s.held_on.isoformat() == "2026-03-12" and s.format == "in_person"
    assert [a.user_id for a in s.attendees] == [world.users["caseworker"].id]
    assert [(h.officers, h.volunteers) for h in s.headcounts] == [(3, 4)]
    assert "training.created" in audit_actions()
    listing = client.get("/training/").get_data(as_text=True)
    assert "Kỹ năng tư vấn" in listing and ">8<" in listing.replace(" ", "")


def test_a_wrong_entry_comes_back_with_messages_and_writes_nothing(world, client_for):
    client = client_for(world.users["caseworker"])
    response = client.post(
        "/training/new", data=form_data(world.district_a, topic="", held_on="31/02/2026")
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Ngày không hợp lệ" in html
    response = client.post("/training/new", data=form_data(world.district_a, topic=""))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Hãy nhập nội dung tập huấn." in html and "Hãy ghi ít nhất một người tham dự." in html
    assert live_sessions() == [] and "training.created" not in audit_actions()


def test_edit_and_delete_are_audited(world, client_for, session_a):
    client = client_for(world.users["caseworker"])
    assert client.get(f"/training/{session_a.id}/edit").status_code == 200
    response = client.post(
        f"/training/{session_a.id}/edit",
        data=form_data(world.district_a, format="online", lines=[(world.commune_a, 2, 1)]),
    )
    assert response.status_code == 302
    db.session.refresh(session_a)
    assert session_a.format == "online"
    assert client.post(f"/training/{session_a.id}/delete").status_code == 302
    assert live_sessions() == []
    actions = audit_actions()
    assert actions.count("training.updated") == 1 and actions.count("training.deleted") == 1


def test_another_units_session_is_not_found(world, client_for, session_a):
    client = client_for(world.users["caseworker_b"])
    before = denials()
    assert client.get(f"/training/{session_a.id}/edit").status_code == 404
    assert (
        client.post(f"/training/{session_a.id}/edit", data=form_data(world.district_b)).status_code
        == 404
    )
    assert client.post(f"/training/{session_a.id}/delete").status_code == 404
    assert client.get("/training/999999/edit").status_code == 404
    assert denials() == before + 4
    assert "Kỹ năng" not in client.get("/training/").get_data(as_text=True)
    assert len(live_sessions()) == 1


def test_moving_a_session_out_of_ones_subtree_is_refused(world, client_for, session_a):
    client = client_for(world.users["caseworker"])
    response = client.post(
        f"/training/{session_a.id}/edit",
        data=form_data(world.district_b, lines=[(world.commune_b, 2, 0)]),
    )
    assert response.status_code == 404
    db.session.refresh(session_a)
    assert session_a.org_unit_id == world.district_a.id


@pytest.mark.parametrize("role", ["volunteer", "partner", "supervisor", "auditor"])
def test_other_roles_cannot_enter_training(world, client_for, session_a, role):
    client = client_for(world.users[role])
    before = denials()
    urls = [
        ("get", "/training/"),
        ("get", "/training/new"),
        ("post", "/training/new"),
        ("get", f"/training/{session_a.id}/edit"),
        ("post", f"/training/{session_a.id}/delete"),
        ("get", "/training/template.xlsx"),
        ("get", "/training/import"),
        ("post", "/training/import"),
        ("get", "/training/staff"),
    ]
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 403, url
    assert denials() == before + len(urls)
    assert len(live_sessions()) == 1


def test_admins_enter_staff_in_post_per_plan(world, client_for, plan):
    client = client_for(world.users["admin"])
    listing = client.get("/training/staff")
    assert listing.status_code == 200 and "Kế hoạch 2026" in listing.get_data(as_text=True)
    page = client.get(f"/training/staff/{plan.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and f'name="unit-{world.commune_b.id}"' in html
    assert "Tổng số cán bộ tại chức đã nhập: 12" in html
    data = {
        f"unit-{world.province.id}": "4",
        f"unit-{world.district_a.id}": "3",
        f"unit-{world.commune_a.id}": "",
        f"unit-{world.district_b.id}": "3",
        f"unit-{world.commune_b.id}": "6",
    }
    assert client.post(f"/training/staff/{plan.id}", data=data).status_code == 302
    rows = dict(
        db.session.execute(
            sa.select(StaffInPost.org_unit_id, StaffInPost.officers).where(
                StaffInPost.plan_id == plan.id
            )
        ).all()
    )
    assert rows == {
        world.province.id: 4,
        world.district_a.id: 3,
        world.district_b.id: 3,
        world.commune_b.id: 6,
    }
    assert audit_actions().count("plan.staffing_updated") == 1
    bad = client.post(
        f"/training/staff/{plan.id}", data={**data, f"unit-{world.province.id}": "-2"}
    )
    assert bad.status_code == 400 and "Số cán bộ phải từ 0" in bad.get_data(as_text=True)
    assert audit_actions().count("plan.staffing_updated") == 1


def test_staff_in_post_is_for_admins_of_the_plans_subtree(world, client_for, plan):
    assert (
        client_for(world.users["caseworker"]).get(f"/training/staff/{plan.id}").status_code == 403
    )
    from tests.factories import UserFactory

    admin_b = UserFactory(username="admin_b", role="admin", org_unit=world.district_b)
    db.session.commit()
    client = client_for(admin_b)
    assert client.get(f"/training/staff/{plan.id}").status_code == 404
    assert client.post(f"/training/staff/{plan.id}", data={}).status_code == 404


def test_the_page_is_in_the_menu_of_caseworkers_and_admins(world, client_for):
    for role in ("caseworker", "admin"):
        html = client_for(world.users[role]).get("/home").get_data(as_text=True)
        assert 'href="/training/"' in html, role
    assert 'href="/training/staff"' in client_for(world.users["admin"]).get("/home").get_data(
        as_text=True
    )
    for role in ("volunteer", "supervisor", "partner"):
        html = client_for(world.users[role]).get("/home").get_data(as_text=True)
        assert "/training/" not in html, role
