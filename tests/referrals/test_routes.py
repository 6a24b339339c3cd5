"""Pages: the caseworker refers, the partner answers, the loop closes; partner isolation."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.referrals import services
from app.referrals.models import Referral
from app.referrals.status import local_today
from tests.conftest import audit_actions, sign_in
from tests.referrals.conftest import actor, forget_signed_in_user
from tests.referrals.factories import make_case


def _sent(loop, world, fields=("preferred_name", "need"), service=None):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(
        cw,
        loop.case,
        loop.need,
        service or loop.hiv_testing,
        fields=list(fields),
        partner_note="Chị cần xét nghiệm sớm",
    )
    services.send_referral(cw, referral)
    db.session.commit()
    return referral


def test_caseworker_refers_through_the_form(client, loop, world, login_as):
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{loop.case.code}/needs/{loop.need.id}/refer")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Xét nghiệm HIV" in html
    assert "Tư vấn sức khỏe pháp lý" in html  # province-wide service covers 37-A1 too
    response = client.post(
        f"/cases/{loop.case.code}/needs/{loop.need.id}/refer",
        data={
            "service_id": str(loop.hiv_testing.id),
            "fields": ["preferred_name", "phone", "need"],
            "priority": "urgent",
            "partner_note": "Gọi trước khi đến",
            "send_now": "y",
        },
    )
    assert response.status_code == 302
    referral = db.session.scalar(sa.select(Referral))
    assert referral.status == "requested"
    assert referral.shared_fields == ["preferred_name", "phone", "need"]
    assert referral.respond_by == local_today() + timedelta(days=3)
    assert referral.partner_note_enc and "Gọi trước".encode() not in referral.partner_note_enc
    assert {"referral.draft", "referral.requested"} <= set(audit_actions())


def test_refused_without_sharing_consent(client, loop, world, login_as):
    case = make_case(world.commune_a, consents=("record",), needs=("health",))
    db.session.commit()
    login_as(world.users["caseworker"])
    url = f"/cases/{case.code}/needs/{case.needs[0].id}/refer"
    page = client.get(url).get_data(as_text=True)
    assert "chưa đồng ý" in page
    response = client.post(
        url,
        data={"service_id": str(loop.hiv_testing.id), "fields": ["need"], "priority": "routine"},
    )
    assert response.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Referral.id))) == 0


def test_refused_when_processing_restricted(loop, world):
    loop.case.is_restricted = True
    db.session.flush()
    with pytest.raises(services.ReferralError, match="hạn chế"):
        services.create_referral(
            actor(world.users["caseworker"]),
            loop.case,
            loop.need,
            loop.hiv_testing,
            fields=["need"],
        )


def test_partner_answers_and_loop_closes(app, client, loop, world, login_as):
    referral = _sent(loop, world)
    login_as(loop.partner)
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert referral.partner_reference in page and loop.case.code not in page
    assert "Chị Lan" in page and "Chị cần xét nghiệm sớm" in page
    assert (
        client.post(
            f"/referrals/{referral.id}",
            data={"to": "accepted", "accepted-to": "accepted"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/referrals/{referral.id}",
            data={
                "to": "completed",
                "completed-to": "completed",
                "completed-outcome": "service_received",
                "completed-service_date": date.today().isoformat(),
            },
        ).status_code
        == 302
    )
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert (referral.status, referral.outcome) == ("completed", "service_received")
    assert [e.to_status for e in referral.events] == ["draft", "requested", "accepted", "completed"]
    assert not any(e.recorded_by_caseworker for e in referral.events)
    caseworker = app.test_client()
    forget_signed_in_user()
    assert sign_in(caseworker, "caseworker").status_code == 302
    response = caseworker.get(f"/cases/{loop.case.code}/referrals")
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page[-800:]
    assert "Đã được kết nối dịch vụ" in page


def test_partner_reject_needs_a_reason(client, loop, world, login_as):
    referral = _sent(loop, world)
    login_as(loop.partner)
    response = client.post(
        f"/referrals/{referral.id}", data={"to": "rejected", "rejected-to": "rejected"}
    )
    assert response.status_code == 400
    assert "Vui lòng chọn lý do" in response.get_data(as_text=True)
    response = client.post(
        f"/referrals/{referral.id}",
        data={"to": "rejected", "rejected-to": "rejected", "rejected-reason_code": "no_capacity"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).reason_code == "no_capacity"


def test_caseworker_records_phone_answer(client, loop, world, login_as):
    referral = _sent(loop, world)
    login_as(world.users["caseworker"])
    client.post(f"/referrals/{referral.id}", data={"to": "accepted", "accepted-to": "accepted"})
    db.session.expire_all()
    event = db.session.get(Referral, referral.id).events[-1]
    assert event.to_status == "accepted" and event.recorded_by_caseworker
    details = db.session.scalars(
        sa.select(AuditEvent.details).where(AuditEvent.action == "referral.accepted")
    ).one()
    assert '"recorded_by_caseworker":true' in details.replace(" ", "")


def test_partner_isolation(client, loop, world, login_as):
    """Partner B cannot see or act on partner A's referrals: 404, audited; lists exclude them."""
    referral = _sent(loop, world)
    draft = services.create_referral(
        actor(world.users["caseworker"]), loop.case, loop.need, loop.legal_aid, fields=["need"]
    )
    db.session.commit()
    login_as(loop.partner_b)
    for method, url, data in [
        ("get", f"/referrals/{referral.id}", None),
        ("get", f"/referrals/{referral.id}/slip", None),
        (
            "post",
            f"/referrals/{referral.id}",
            {"to": "accepted", "accepted-to": "accepted"},
        ),
        ("get", f"/referrals/{draft.id}", None),  # addressed to B, but never sent
    ]:
        before = db.session.scalar(
            sa.select(sa.func.count(AuditEvent.seq)).where(AuditEvent.outcome == "denied")
        )
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 404, url
        after = db.session.scalar(
            sa.select(sa.func.count(AuditEvent.seq)).where(AuditEvent.outcome == "denied")
        )
        assert after == before + 1
    listing = client.get("/referrals/").get_data(as_text=True)
    assert referral.partner_reference not in listing and loop.case.code not in listing
    db.session.expire_all()
    assert db.session.get(Referral, referral.id).status == "requested"
    # Partners never see the directory or case pages.
    assert client.get("/partners/").status_code == 403
    assert client.get(f"/cases/{loop.case.code}/referrals").status_code == 403


def test_caseworker_of_another_district_gets_404(client, loop, world, login_as):
    referral = _sent(loop, world)
    login_as(world.users["caseworker_b"])
    assert client.get(f"/referrals/{referral.id}").status_code == 404
    assert client.get(f"/cases/{loop.case.code}/needs/{loop.need.id}/refer").status_code == 404


@pytest.mark.parametrize("role", ["volunteer", "supervisor", "admin"])
def test_other_roles_refused(client, loop, world, login_as, role):
    referral = _sent(loop, world)
    login_as(world.users[role])
    assert client.get(f"/referrals/{referral.id}").status_code == 403
    assert client.get("/referrals/").status_code == 403


def test_slip_is_vietnamese_even_in_english(client, loop, world, login_as):
    referral = _sent(loop, world)
    login_as(loop.partner)
    client.post("/language", data={"lang": "en", "next": "/home"})
    slip = client.get(f"/referrals/{referral.id}/slip").get_data(as_text=True)
    assert "PHIẾU CHUYỂN GỬI DỊCH VỤ" in slip and referral.partner_reference in slip
    assert loop.case.code not in slip
    assert "referral.printed" in audit_actions()


def test_overdue_flag_on_list_and_home(client, loop, world, login_as):
    referral = _sent(loop, world)
    referral.respond_by = date.today() - timedelta(days=1)
    db.session.commit()
    login_as(world.users["caseworker"])
    listing = client.get("/referrals/").get_data(as_text=True)
    assert "Quá hạn" in listing
    home = client.get("/home").get_data(as_text=True)
    assert "Chuyển gửi đã quá hạn trả lời: 1" in home
    overdue = client.get("/referrals/overdue").get_data(as_text=True)
    assert referral.partner_reference in overdue
    # The home's other cards are drawn once and kept; this one is hers, and current.
    referral.respond_by = date.today() + timedelta(days=3)
    db.session.commit()
    home = client.get("/home").get_data(as_text=True)
    assert "Chuyển gửi đã quá hạn trả lời: 0" in home and "Đổi mật khẩu" in home


def test_entered_in_error_needs_note(client, loop, world, login_as):
    referral = _sent(loop, world)
    login_as(world.users["caseworker"])
    bad = client.post(
        f"/referrals/{referral.id}",
        data={"to": "entered-in-error", "entered-in-error-to": "entered-in-error"},
    )
    assert bad.status_code == 400
    ok = client.post(
        f"/referrals/{referral.id}",
        data={
            "to": "entered-in-error",
            "entered-in-error-to": "entered-in-error",
            "entered-in-error-note": "Nhầm hồ sơ",
        },
    )
    assert ok.status_code == 302
    db.session.expire_all()
    referral = db.session.get(Referral, referral.id)
    assert referral.status == "entered-in-error"
    assert b"Nh\xe1\xba\xa7m" not in (referral.events[-1].note_enc or b"")


def test_case_page_links_to_referrals_and_marks_the_connected_need(client, loop, world, login_as):
    referral = _sent(loop, world)
    partner = actor(loop.partner)
    services.transition(partner, referral, "accepted")
    received = services.TransitionInput(outcome="service_received", service_date=date.today())
    services.transition(partner, referral, "completed", received)
    db.session.commit()
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{loop.case.code}").get_data(as_text=True)
    assert f"/cases/{loop.case.code}/referrals" in page
    assert "Đã nhận dịch vụ" in page
