"""Assigning, transferring and recording another consent are pages of their own: the case page
links to them and no longer carries their forms. Each page keeps what she entered when a rule
refuses it, changes nothing then, and records its action in the audit trail when it succeeds."""

from __future__ import annotations

import re

import sqlalchemy as sa

from app.cases.models import Case, Consent
from app.extensions import db
from tests.cases.conftest import count_rows, open_case
from tests.conftest import audit_actions


def _case(code: str) -> Case:
    db.session.expire_all()
    return db.session.execute(sa.select(Case).where(Case.code == code)).scalar_one()


def test_the_case_page_links_to_both_pages_and_carries_none_of_their_forms(
    client, world, login_as, case_a
):
    login_as(world.users["caseworker"])
    body = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    assert f'href="/cases/{case_a.code}/assignment"' in body
    assert f'href="/cases/{case_a.code}/consents"' in body
    for form_field in ('name="assigned_to_id"', 'name="org_unit_id"', 'name="consent_method"'):
        assert form_field not in body, form_field


def test_a_volunteer_sees_neither_link(client, world, login_as):
    mine = open_case(
        world.users["caseworker"], world.commune_a, assigned_to_id=world.users["volunteer"].id
    )
    login_as(world.users["volunteer"])
    body = client.get(f"/cases/{mine.code}").get_data(as_text=True)
    assert "Lê Thị Mẫu" in body  # her own case, shown
    assert "/assignment" not in body and f'/cases/{mine.code}/consents"' not in body


def test_assigning_from_its_page(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    volunteer = world.users["volunteer"]
    page = client.get(f"/cases/{case_a.code}/assignment").get_data(as_text=True)
    assert f'<option value="{volunteer.id}"' in page
    # Someone of another district: refused beside the list, nothing changed, nothing recorded.
    before = (_case(case_a.code).assigned_to_id, len(audit_actions()))
    refused = client.post(
        f"/cases/{case_a.code}/assign", data={"assigned_to_id": world.users["volunteer_b"].id}
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Người được giao không thuộc đơn vị của hồ sơ." in html
    assert html.index("Người được giao không thuộc") < html.index('name="org_unit_id"')
    assert (_case(case_a.code).assigned_to_id, len(audit_actions())) == before
    done = client.post(f"/cases/{case_a.code}/assign", data={"assigned_to_id": volunteer.id})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case_a.code}")
    assert _case(case_a.code).assigned_to_id == volunteer.id
    assert audit_actions()[-1] == "case.updated"


def test_transferring_from_its_page(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{case_a.code}/assignment").get_data(as_text=True)
    assert f'<option value="{world.commune_b.id}"' in page
    before = len(audit_actions())
    refused = client.post(f"/cases/{case_a.code}/transfer", data={"org_unit_id": "x"})
    assert refused.status_code == 400
    assert "Hãy chọn đơn vị nhận hồ sơ." in refused.get_data(as_text=True)
    assert _case(case_a.code).transfer_to_org_unit_id is None and len(audit_actions()) == before
    sent = client.post(f"/cases/{case_a.code}/transfer", data={"org_unit_id": world.commune_b.id})
    assert sent.status_code == 302
    assert _case(case_a.code).transfer_to_org_unit_id == world.commune_b.id
    assert "case.transfer_requested" in audit_actions()
    # Pending: the page offers to cancel it, not a second transfer.
    page = client.get(f"/cases/{case_a.code}/assignment").get_data(as_text=True)
    assert "Đang chờ chuyển đến" in page and world.commune_b.name in page
    assert 'name="org_unit_id"' not in page and "/transfer/cancel" in page
    assert client.post(f"/cases/{case_a.code}/transfer/cancel").status_code == 302
    assert _case(case_a.code).transfer_to_org_unit_id is None
    assert audit_actions()[-1] == "case.transfer_cancelled"
    # Nothing left to cancel: said on the page, nothing recorded.
    before = len(audit_actions())
    again = client.post(f"/cases/{case_a.code}/transfer/cancel")
    assert again.status_code == 400
    assert "Không có yêu cầu chuyển hồ sơ." in again.get_data(as_text=True)
    assert len(audit_actions()) == before


def test_recording_a_consent_from_its_page_keeps_her_ticks_when_refused(
    client, world, login_as, case_a
):
    login_as(world.users["caseworker"])
    page = client.get(f"/cases/{case_a.code}/consents").get_data(as_text=True)
    assert 'name="consent_method"' in page and 'name="consent_share"' in page
    before = (count_rows(Consent), len(audit_actions()))
    # No method chosen: 400 on the same page, her ticks still ticked.
    refused = client.post(
        f"/cases/{case_a.code}/consents",
        data={"consent_share": ["share:jobs"], "consent_contact_phone": "y"},
    )
    assert refused.status_code == 400
    html = refused.get_data(as_text=True)
    assert "Hãy chọn hình thức đồng ý." in html
    phone = re.search(r'<input[^>]*id="consent_contact_phone"[^>]*>', html).group(0)
    jobs = re.search(r'<input[^>]*value="share:jobs"[^>]*>', html).group(0)
    assert "checked" in phone and "checked" in jobs
    assert (count_rows(Consent), len(audit_actions())) == before
    # A purpose that already has consent: said beside the purposes, nothing saved.
    duplicate = client.post(
        f"/cases/{case_a.code}/consents",
        data={"consent_share": ["share:health"], "consent_method": "verbal"},
    )
    assert duplicate.status_code == 400
    assert "Các mục đích này đã có sự đồng ý." in duplicate.get_data(as_text=True)
    assert (count_rows(Consent), len(audit_actions())) == before
    done = client.post(
        f"/cases/{case_a.code}/consents",
        data={"consent_share": ["share:jobs"], "consent_method": "written"},
    )
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{case_a.code}")
    purposes = {c.purpose for c in _case(case_a.code).consents if c.withdrawn_at is None}
    assert "share:jobs" in purposes
    assert "consent.recorded" in audit_actions()[before[1] :]


def test_english_pages_speak_english(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    with client.session_transaction() as s:
        s["lang"] = "en"
    assignment = client.get(f"/cases/{case_a.code}/assignment").get_data(as_text=True)
    consent = client.get(f"/cases/{case_a.code}/consents").get_data(as_text=True)
    assert "Assign or transfer the case" in assignment and "Giao hồ sơ" not in assignment
    assert "Record further consent" in consent and "Ghi nhận thêm" not in consent


def test_a_second_transfer_request_never_replaces_a_pending_one(client, world, login_as, case_a):
    """Two tabs (or two colleagues) opened the assignment page before either sent the case: the
    second send is refused, and the unit told first still has its request."""
    login_as(world.users["caseworker"])
    stale = client.get(f"/cases/{case_a.code}/assignment").get_data(as_text=True)
    assert 'name="org_unit_id"' in stale
    sent = client.post(f"/cases/{case_a.code}/transfer", data={"org_unit_id": world.commune_b.id})
    assert sent.status_code == 302
    before = len(audit_actions())
    again = client.post(f"/cases/{case_a.code}/transfer", data={"org_unit_id": world.province.id})
    assert again.status_code == 400
    assert "Hồ sơ đang chờ chuyển đến đơn vị khác" in again.get_data(as_text=True)
    assert _case(case_a.code).transfer_to_org_unit_id == world.commune_b.id
    assert len(audit_actions()) == before
