"""The referral note is split (issue 16, point 6).

The note for the partner is shown to her with a reminder of what was consented and refused
when it carries the woman's name, phone or ID number (checked against the decrypted case); the
internal note never leaves: not on the partner's page, the slip, the API or FHIR.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.cases.fields import set_field
from app.cases.tokens import create_api_token
from app.extensions import db
from app.referrals import services, sharing
from app.referrals.models import Referral
from app.referrals.partner_note import identifying_kinds
from tests.conftest import sign_in
from tests.referrals.conftest import actor, forget_signed_in_user

INTERNAL = "Nội bộ: chồng cũ hay đến tìm, canary-7f3a"
FOR_PARTNER = "Chị muốn đến buổi sáng"


@pytest.fixture
def case(loop):
    set_field(loop.case, "other_names", "Lan Anh; Bé Ba")
    set_field(loop.case, "id_number", "036190012345")
    db.session.commit()
    return loop.case


@pytest.mark.parametrize(
    ("note", "kinds"),
    [
        ("Chị Nguyễn Thị Lan sẽ đến", ["name"]),
        ("chi nguyen thi LAN se den", ["name"]),  # no diacritics, other case
        ("Hỏi chị Lan Anh ở cổng", ["name"]),  # one of her other names
        ("Gọi 0912.345.678 trước", ["phone"]),
        ("Gọi +84 912 345 678 trước", ["phone"]),
        ("CCCD 036-190-012-345", ["id_number"]),
        ("Nguyễn Thị Lan, 0912345678", ["name", "phone"]),
        (FOR_PARTNER, []),
        ("Bạn Lan sẽ đến", []),  # a given name alone is not her name
        ("Phòng 912, tầng 3", []),
    ],
)
def test_identifying_fields_are_found_in_the_note(case, note, kinds):
    assert identifying_kinds(case, note, ["need"]) == kinds


def test_preferred_name_only_when_it_is_shared(case):
    note = "Chị Lan gửi lời chào"  # preferred name "Chị Lan"
    assert identifying_kinds(case, note, ["need"]) == ["name"]
    assert identifying_kinds(case, note, ["preferred_name", "need"]) == []


def _refer(client, loop, **data):
    return client.post(
        f"/cases/{loop.case.code}/needs/{loop.need.id}/refer",
        data={
            "service_id": str(loop.hiv_testing.id),
            "fields": ["need"],
            "priority": "routine",
            "send_now": "y",
            **data,
        },
    )


def test_form_reminds_what_she_consented_to_share(client, loop, world, case):
    sign_in(client, "caseworker")
    html = client.get(f"/cases/{loop.case.code}/needs/{loop.need.id}/refer").get_data(True)
    assert "Người được hỗ trợ chỉ đồng ý chia sẻ: Tên thường gọi, Số điện thoại" in html
    assert 'name="partner_note"' in html and 'name="internal_note"' in html
    assert "không bao giờ gửi cho cơ sở" in html


def test_form_refuses_a_partner_note_naming_her(client, loop, world, case):
    sign_in(client, "caseworker")
    response = _refer(client, loop, partner_note="Chị Nguyen Thi Lan, 0912 345 678")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "không được chứa họ tên, số điện thoại của người được hỗ trợ" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Referral)) == 0
    # The same words may go in the internal note.
    response = _refer(
        client, loop, partner_note=FOR_PARTNER, internal_note="Nguyễn Thị Lan, 0912 345 678"
    )
    assert response.status_code == 302


def test_api_refuses_a_partner_note_with_her_id_number(client, loop, world, case):
    token = create_api_token(actor(world.users["caseworker"]), "t")[1]
    db.session.commit()
    response = client.post(
        "/api/v1/referrals",
        headers={"Authorization": f"Bearer {token}"},
        json={
            "case_code": loop.case.code,
            "need_id": loop.need.id,
            "service_id": str(loop.hiv_testing.id),
            "partner_note": "Giấy tờ số 036 190 012 345",
        },
    )
    assert response.status_code == 422
    assert "số giấy tờ tùy thân" in response.get_json()["error"]
    assert "036" not in response.get_json()["error"]


def test_internal_note_never_leaves(client, app, loop, world, case):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(
        cw,
        loop.case,
        loop.need,
        loop.hiv_testing,
        fields=["need"],
        partner_note=FOR_PARTNER,
        internal_note=INTERNAL,
    )
    services.send_referral(cw, referral)
    partner_token = create_api_token(actor(loop.partner), "t")[1]
    cw_token = create_api_token(cw, "t")[1]
    db.session.commit()
    assert INTERNAL.encode() not in (referral.note_enc or b"")

    partner = app.test_client()
    assert sign_in(partner, "partner").status_code == 302
    bearer = {"Authorization": f"Bearer {partner_token}"}
    outputs = {
        "page": partner.get(f"/referrals/{referral.id}"),
        "slip": partner.get(f"/referrals/{referral.id}/slip"),
    }
    forget_signed_in_user()
    outputs["api"] = client.get(f"/api/v1/referrals/{referral.id}", headers=bearer)
    outputs["list"] = client.get("/api/v1/referrals", headers=bearer)
    # The FHIR bundle is what a caseworker sends on to the partner's own system.
    outputs["fhir"] = client.get(
        f"/api/v1/referrals/{referral.id}/fhir", headers={"Authorization": f"Bearer {cw_token}"}
    )
    for name, response in outputs.items():
        assert response.status_code == 200, name
        text = response.get_data(as_text=True)
        if response.is_json:
            text += json.dumps(response.get_json(), ensure_ascii=False)
        assert "canary-7f3a" not in text, name
        assert FOR_PARTNER in text, name
    assert "internal_note" not in outputs["api"].get_json()

    # The caseworkers of the case read both.
    forget_signed_in_user()
    body = client.get(
        f"/api/v1/referrals/{referral.id}", headers={"Authorization": f"Bearer {cw_token}"}
    ).get_json()
    assert body["internal_note"] == INTERNAL and body["partner_note"] == FOR_PARTNER
    forget_signed_in_user()
    sign_in(client, "caseworker")
    page = client.get(f"/referrals/{referral.id}").get_data(as_text=True)
    assert INTERNAL in page and FOR_PARTNER in page


def test_a_note_written_before_the_split_stays_internal(loop, world, case):
    """The migration leaves old notes in note_enc, which is now the internal note."""
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    from app.crypto.envelope import seal

    referral.note_enc = seal(
        loop.case.data_key, "old note", table="referrals", column="note_enc", row_id=referral.id
    )
    services.send_referral(cw, referral)
    assert sharing.shared_view(referral).note is None
    assert sharing.read_internal_note(referral) == "old note"
