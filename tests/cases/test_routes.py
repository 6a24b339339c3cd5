"""The case pages through the test client: intake, list and search, the case page, rights."""

from __future__ import annotations

import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases.fields import read_field
from app.cases.models import IDENTIFYING_FIELDS, Case, Consent
from app.extensions import db
from tests.cases.conftest import count_rows, intake_form, open_case
from tests.conftest import audit_actions
from tests.html import has_inline_script


def test_intake_form_is_one_page_with_consent_first(client, world, login_as):
    login_as(world.users["caseworker"])
    body = client.get("/cases/new").get_data(as_text=True)
    assert body.index('id="consent"') < body.index('id="identity"') < body.index('id="needs"')
    assert "Phiên bản nội dung: 2026-01" in body
    for name in IDENTIFYING_FIELDS:
        tag = body[body.index(f'name="{name}"') - 200 : body.index(f'name="{name}"') + 200]
        assert 'autocomplete="off"' in tag, name
    assert "đối tượng" not in body.lower()
    assert not has_inline_script(body) and 'style="' not in body


def test_no_save_without_consent_to_record(client, world, login_as):
    login_as(world.users["caseworker"])
    before = (count_rows(Case), count_rows(Consent), len(audit_actions()))
    response = client.post("/cases/new", data=intake_form(world.commune_a.id, consent_record=None))
    assert response.status_code == 400
    assert "Chưa có sự đồng ý cho việc ghi nhận hồ sơ" in response.get_data(as_text=True)
    assert (count_rows(Case), count_rows(Consent), len(audit_actions())) == before


def test_intake_creates_the_case_with_its_consents(client, world, login_as):
    login_as(world.users["caseworker"])
    response = client.post("/cases/new", data=intake_form(world.commune_a.id))
    assert response.status_code == 302
    code = response.headers["Location"].rsplit("/", 1)[-1]
    case = db.session.execute(sa.select(Case).where(Case.code == code)).scalar_one()
    purposes = sorted(c.purpose for c in case.consents)
    assert purposes == ["contact_phone", "record", "share:health", "share:vocational_training"]
    assert all(c.text_version == "2026-01" and c.method == "verbal" for c in case.consents)
    assert sorted(n.category for n in case.needs) == ["health", "vocational_training"]
    assert case.birth_year_band and case.reached_via == "outreach"
    assert case.assigned_to_id == world.users["caseworker"].id
    # The URL names the code only.
    assert "Trần" not in response.headers["Location"]


def test_minor_without_guardian_is_refused(client, world, login_as):
    login_as(world.users["caseworker"])
    response = client.post(
        "/cases/new", data=intake_form(world.commune_a.id, date_of_birth="01/01/2015")
    )
    assert response.status_code == 400
    assert "người giám hộ" in response.get_data(as_text=True)
    ok = client.post(
        "/cases/new",
        data=intake_form(
            world.commune_a.id,
            date_of_birth="01/01/2015",
            given_by="guardian",
            guardian_relation="Bà ngoại",
        ),
    )
    assert ok.status_code == 302


def test_volunteer_intake_only_in_her_commune(client, world, login_as):
    login_as(world.users["volunteer"])
    body = client.get("/cases/new").get_data(as_text=True)
    assert world.commune_b.name not in body
    assert "Thông tin sức khỏe" not in body  # no health/violence fields for volunteers
    response = client.post("/cases/new", data=intake_form(world.commune_b.id))
    assert response.status_code == 400
    assert client.post("/cases/new", data=intake_form(world.commune_a.id)).status_code == 302


def test_duplicate_warning_in_scope_shows_the_code(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    phone = read_field(case_a, "phone")
    response = client.post("/cases/new", data=intake_form(world.commune_a.id, phone=phone))
    assert response.status_code == 409
    assert case_a.code in response.get_data(as_text=True)
    confirmed = client.post(
        "/cases/new", data=intake_form(world.commune_a.id, phone=phone, confirm_not_duplicate="y")
    )
    assert confirmed.status_code == 302


def test_duplicate_elsewhere_says_nothing_more(client, world, login_as, case_b):
    login_as(world.users["caseworker"])
    idn = read_field(case_b, "id_number")
    response = client.post("/cases/new", data=intake_form(world.commune_a.id, id_number=idn))
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "hỏi cán bộ Hội cấp tỉnh" in body and case_b.code not in body


def test_search_is_posted_and_matches_without_diacritics(client, world, login_as):
    login_as(world.users["caseworker"])
    client.post("/cases/new", data=intake_form(world.commune_a.id, full_name="Nguyễn Thị Hoa"))
    response = client.post("/cases/search", data={"q": "nguyen thi hoa"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "Nguyễn Thị Hoa" in body
    assert client.get("/cases/search?q=nguyen").status_code in (404, 405)  # never by GET
    assert client.post("/cases/search", data={"q": ""}).status_code == 400


def test_list_filters_and_pages_of_25(client, world, login_as):
    for _ in range(27):
        open_case(world.users["caseworker"], world.commune_a, needs=[("jobs", "low")])
    login_as(world.users["caseworker"])
    body = client.get("/cases/").get_data(as_text=True)
    assert body.count('href="/cases/NB-') == 25 and "27 hồ sơ" in body
    after = body.split('href="/cases/?after=')[1].split('"')[0].replace("&amp;", "&")
    assert (
        client.get(f"/cases/?after={after}").get_data(as_text=True).count('href="/cases/NB-') == 2
    )
    assert (
        "NB-" not in client.get("/cases/?status=closed").get_data(as_text=True).split("<tbody>")[-1]
    )
    assert (
        client.get("/cases/?category=jobs&mine=1").get_data(as_text=True).count('href="/cases/NB-')
        == 25
    )
    event = db.session.execute(
        sa.select(AuditEvent).where(
            AuditEvent.action == "case.viewed", AuditEvent.object_type == "case_list"
        )
    ).scalars()
    assert any('"count":25' in e.details for e in event)


def test_needs_attention_filter(client, world, login_as):
    urgent = open_case(world.users["caseworker"], world.commune_a, needs=[("jobs", "high")])
    calm = open_case(world.users["caseworker"], world.commune_a, needs=[("jobs", "low")])
    login_as(world.users["caseworker"])
    body = client.get("/cases/?attention=1").get_data(as_text=True)
    assert urgent.code in body and calm.code not in body


def test_case_page_records_a_view_and_shows_the_history(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    body = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    assert "Lê Thị Mẫu" in body and "Mở hồ sơ" in body
    assert audit_actions().count("case.viewed") == 1
    # The page is read before its own view is recorded: that view shows on the next one.
    body = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    assert "Xem hồ sơ" in body
    assert "case.viewed" not in body  # the users' words, not the code
    assert audit_actions().count("case.viewed") == 2


def test_case_actions_through_the_page(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    code = case_a.code
    assert client.post(f"/cases/{code}/notes", data={"body": "Gặp tại nhà"}).status_code == 302
    assert client.post(f"/cases/{code}/notes", data={"body": ""}).status_code == 400
    assert (
        client.post(
            f"/cases/{code}/needs", data={"category": "legal_aid", "priority": "high"}
        ).status_code
        == 302
    )
    assert client.post(f"/cases/{code}/status", data={"status": "closed"}).status_code == 400
    assert (
        client.post(
            f"/cases/{code}/status", data={"status": "closed", "closed_reason": "goals_met"}
        ).status_code
        == 302
    )
    assert client.post(f"/cases/{code}/status", data={"status": "open"}).status_code == 302
    consent = next(c for c in case_a.consents if c.purpose == "share:health")
    assert (
        client.post(
            f"/cases/{code}/consents/{consent.id}/withdraw",
            data={"reason": "her_request", "confirm": "y"},
        ).status_code
        == 302
    )
    assert (
        client.post(
            f"/cases/{code}/consents", data={"consent_share_hiv": "y", "consent_method": "written"}
        ).status_code
        == 302
    )
    assert (
        client.post(f"/cases/{code}/transfer", data={"org_unit_id": world.commune_b.id}).status_code
        == 302
    )
    body = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "Gặp tại nhà" in body and "Đang chờ chuyển đến" in body
    for action in (
        "note.added",
        "need.added",
        "case.updated",
        "consent.withdrawn",
        "consent.recorded",
        "case.transfer_requested",
    ):
        assert action in audit_actions()


def test_correction_print_restrict_erase(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    code = case_a.code
    form = client.get(f"/cases/{code}/edit").get_data(as_text=True)
    assert "Lê Thị Mẫu" in form
    response = client.post(
        f"/cases/{code}/edit",
        data={"full_name": "Lê Thị Đã Sửa", "date_of_birth": "1990", "reached_via": "peer"},
    )
    assert response.status_code == 302
    printed = client.get(f"/cases/{code}/print").get_data(as_text=True)
    assert "Lê Thị Đã Sửa" in printed and "Thông tin Hội đang lưu về chị" in printed
    assert client.post(f"/cases/{code}/restrict").status_code == 302
    assert (
        client.post(
            f"/cases/{code}/erase", data={"confirm_code": "NB-0000", "reason": "her_request"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/cases/{code}/erase", data={"confirm_code": code, "reason": "her_request"}
        ).status_code
        == 302
    )
    page = client.get(f"/cases/{code}").get_data(as_text=True)
    assert "[đã xoá vĩnh viễn]" in page and "Lê Thị" not in page
    actions = audit_actions()
    for action in ("case.updated", "case.printed", "case.restricted", "case.erased"):
        assert action in actions
    updated = (
        db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "case.updated"))
        .scalars()
        .first()
    )
    assert "full_name" in updated.details and "Sửa" not in updated.details


def test_api_tokens_page_shows_the_token_once(client, world, login_as):
    login_as(world.users["caseworker"])
    response = client.post("/account/api-tokens", data={"name": "Máy tính văn phòng"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and "cn_" in body
    again = client.get("/account/api-tokens").get_data(as_text=True)
    token = body.split("<code>")[1].split("</code>")[0]
    assert token not in again and token[:10] in again
    token_id = int(again.split("/account/api-tokens/")[1].split("/")[0])
    assert client.post(f"/account/api-tokens/{token_id}/revoke").status_code == 302
    assert "api_token.created" in audit_actions() and "api_token.revoked" in audit_actions()


def test_pages_in_english(client, world, login_as, case_a):
    login_as(world.users["caseworker"])
    client.post("/language", data={"lang": "en", "next": "/cases/"})
    assert "Open a new case" in client.get("/cases/new").get_data(as_text=True)
    body = client.get(f"/cases/{case_a.code}").get_data(as_text=True)
    assert "Who viewed or changed this case" in body and "Withdraw consent" in body
