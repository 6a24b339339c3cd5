"""After sharing stops, the partner can neither read nor answer: only "withdrawn"."""

from __future__ import annotations

from app.cases import services as case_services
from app.cases.tokens import create_api_token
from app.extensions import db
from app.referrals import services
from tests.referrals.conftest import actor


def test_partner_api_sees_only_withdrawn_and_cannot_answer(client, loop, world):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(
        cw, loop.case, loop.need, loop.hiv_testing, fields=["preferred_name", "phone"]
    )
    services.send_referral(cw, referral)
    consent = next(c for c in loop.case.consents if c.purpose == "share:health")
    case_services.withdraw_consent(cw, loop.case, consent, reason="her_request")
    token = create_api_token(actor(loop.partner), "t")[1]
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    body = client.get(f"/api/v1/referrals/{referral.id}", headers=auth).get_json()
    assert body == {
        "id": referral.id,
        "partner_reference": referral.partner_reference,
        "status": "withdrawn",
        "withdrawn": True,
    }
    answer = client.post(
        f"/api/v1/referrals/{referral.id}/transition", headers=auth, json={"to": "accepted"}
    )
    assert answer.status_code == 409
    listing = client.get("/api/v1/referrals", headers=auth).get_json()
    assert listing["items"] == [body]


def test_partner_list_shows_withdrawn_without_category(client, loop, world, login_as):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral)
    consent = next(c for c in loop.case.consents if c.purpose == "share:health")
    case_services.withdraw_consent(cw, loop.case, consent, reason="her_request")
    db.session.commit()
    login_as(loop.partner)
    listing = client.get("/referrals/").get_data(as_text=True)
    assert referral.partner_reference in listing and "Đã rút lại" in listing
    assert "Y tế" not in listing


def test_bad_email_in_directory_form_is_refused(client, world, login_as):
    login_as(world.users["admin"])
    response = client.post(
        "/partners/organizations/new",
        data={"name": "Cơ sở", "description": "Mô tả", "email": "không phải email"},
    )
    assert response.status_code == 400
    assert "Địa chỉ email không hợp lệ" in response.get_data(as_text=True)


def test_pages_in_english(client, loop, world, login_as):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    db.session.commit()
    login_as(world.users["caseworker"])
    client.post("/language", data={"lang": "en", "next": "/home"})
    detail = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Send referral" in detail and "Information shared with the partner" in detail
    sent = client.post(
        f"/referrals/{referral.id}/transition",
        data={"to": "requested", "requested-to": "requested"},
    )
    assert sent.status_code == 302
    assert "Sent, awaiting answer" in client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert "Service directory" in client.get("/partners/").get_data(as_text=True)
