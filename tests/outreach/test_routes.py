"""Pages and the JSON API through the test client."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.outreach.models import OutreachActivity
from tests.conftest import audit_actions
from tests.factories import OrgUnitFactory
from tests.outreach.conftest import TODAY, form_data, payload
from tests.outreach.factories import OutreachActivityFactory


def count() -> int:
    return db.session.execute(sa.select(sa.func.count(OutreachActivity.id))).scalar_one()


def denials() -> list[AuditEvent]:
    return list(
        db.session.execute(sa.select(AuditEvent).where(AuditEvent.outcome == "denied")).scalars()
    )


def test_volunteer_form_is_one_screen_with_fixed_commune(client, world, login_as, clock):
    login_as(world.users["volunteer"])
    response = client.get("/outreach/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Xã Ninh Hải" in html and "<select" not in html
    assert 'name="idempotency_key"' in html and "Không ghi tên người" in html
    assert "<script>" not in html and "style=" not in html


def test_caseworker_chooses_among_communes_of_the_subtree(client, world, login_as, clock):
    second = OrgUnitFactory(code="37-A2", name="Phường Hai", level="ward", parent=world.district_a)
    OrgUnitFactory(
        code="37-A3", name="Xã Cũ", level="commune", parent=world.district_a, is_retired=True
    )
    db.session.commit()
    login_as(world.users["caseworker"])
    html = client.get("/outreach/new").get_data(as_text=True)
    assert f'<option value="{world.commune_a.id}"' in html
    assert f'<option value="{second.id}"' in html
    assert f'value="{world.commune_b.id}"' not in html and "Xã Cũ" not in html


def test_page_post_creates_once_per_key(client, world, login_as, clock):
    login_as(world.users["volunteer"])
    data = form_data(world.commune_a.id)
    assert client.post("/outreach/new", data=data).status_code == 302
    response = client.post("/outreach/new", data=data, follow_redirects=True)
    assert "đã được ghi trước đó" in response.get_data(as_text=True)
    assert count() == 1


def test_api_create_then_repeat_returns_existing(client, world, login_as, clock):
    login_as(world.users["volunteer"])
    first = client.post("/api/v1/outreach", json=payload())
    assert first.status_code == 201
    assert first.json["org_unit"]["code"] == "37-A1"
    assert first.json["topics"] == ["hiv_sti", "trafficking"]
    again = client.post("/api/v1/outreach", json=payload(reached_public=999))
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert again.json["reached_public"] == 5
    assert count() == 1
    assert client.get(f"/api/v1/outreach/{first.json['id']}").json["can_change"] is True
    listing = client.get("/api/v1/outreach?mine=1").json
    assert listing["total"] == 1 and listing["items"][0]["id"] == first.json["id"]


BAD = [
    ({"reached_public": -3}, "reached_public", "không âm"),
    ({"reached_public": 250_000}, "reached_public", "quá lớn"),
    ({"reached_industrial_workers": None, "reached_public": None}, "reached", "ít nhất một nhóm"),
    ({"held_on": (TODAY + timedelta(days=2)).isoformat()}, "held_on", "tương lai"),
    ({"held_on": (TODAY - timedelta(days=400)).isoformat()}, "held_on", "một năm"),
    ({"form": "karaoke"}, "form", "hình thức"),
    ({"place": "moon"}, "place", "địa điểm"),
    ({"topics": ["gossip"]}, "topics", "chủ đề"),
]


@pytest.mark.parametrize(("overrides", "field", "words"), BAD)
def test_api_bad_input_is_400_in_vietnamese(
    client, world, login_as, clock, overrides, field, words
):
    login_as(world.users["volunteer"])
    response = client.post("/api/v1/outreach", json=payload(**overrides))
    assert response.status_code == 400
    assert words in response.json["errors"][field].lower()
    assert count() == 0


@pytest.mark.parametrize(("overrides", "field", "words"), BAD)
def test_page_bad_input_is_400_in_vietnamese(
    client, world, login_as, clock, overrides, field, words
):
    login_as(world.users["volunteer"])
    response = client.post("/outreach/new", data=form_data(world.commune_a.id, **overrides))
    assert response.status_code == 400
    html = response.get_data(as_text=True).lower()
    assert "vui lòng sửa các mục" in html and words in html
    assert count() == 0


def test_api_rejects_text_where_a_number_belongs(client, world, login_as, clock):
    login_as(world.users["volunteer"])
    response = client.post("/api/v1/outreach", json=payload(reached_public="mười"))
    assert response.status_code == 400
    assert "số nguyên" in response.json["errors"]["reached_public"]
    response = client.post("/api/v1/outreach", data="not json", content_type="application/json")
    assert response.status_code == 400
    assert count() == 0


def test_page_rejects_text_where_a_number_belongs(client, world, login_as, clock):
    login_as(world.users["volunteer"])
    data = form_data(world.commune_a.id, reached_public="abc")
    response = client.post("/outreach/new", data=data)
    assert response.status_code == 400
    assert "số nguyên không âm" in response.get_data(as_text=True)


def test_out_of_scope_commune_is_404_and_audited(client, world, login_as, clock):
    login_as(world.users["volunteer"])
    assert client.post("/api/v1/outreach", json=payload(world.commune_b.id)).status_code == 404
    page = client.post(
        "/outreach/new", data=form_data(world.commune_b.id, idempotency_key="p" * 20)
    )
    assert page.status_code == 404
    assert client.post("/outreach/new", data=form_data(999999)).status_code == 404
    assert count() == 0
    refs = [(e.object_type, e.object_ref) for e in denials()]
    assert ("org_unit", str(world.commune_b.id)) in refs and ("org_unit", "999999") in refs


def test_edit_window_through_the_page(client, world, login_as, client_for, clock):
    login_as(world.users["volunteer"])
    assert client.post("/outreach/new", data=form_data(world.commune_a.id)).status_code == 302
    activity = db.session.execute(sa.select(OutreachActivity)).scalar_one()
    url = f"/outreach/{activity.id}/edit"
    assert client.get(url).status_code == 200
    changed = form_data(world.commune_a.id, reached_public=7)
    assert client.post(url, data=changed).status_code == 302
    clock.advance(days=7, seconds=1)
    assert client.get(url).status_code == 403
    assert client.post(f"/outreach/{activity.id}/delete").status_code == 403
    caseworker = client_for(world.users["caseworker"])
    assert caseworker.get(url).status_code == 200
    assert caseworker.post(f"/outreach/{activity.id}/delete").status_code == 302
    db.session.refresh(activity)
    assert activity.deleted_at is not None
    assert caseworker.get(url).status_code == 404
    assert [a for a in audit_actions() if a.startswith("outreach.")] == [
        "outreach.created",
        "outreach.updated",
        "outreach.deleted",
    ]


def test_lists_by_role(client, world, login_as, client_for, clock):
    teammate_entry = OutreachActivityFactory(org_unit=world.commune_a, reached_public=31)
    mine = OutreachActivityFactory(
        org_unit=world.commune_a, created_by=world.users["volunteer"], reached_public=42
    )
    OutreachActivityFactory(org_unit=world.commune_b, reached_public=53)
    db.session.commit()
    login_as(world.users["volunteer"])
    own = client.get("/outreach/?view=mine").get_data(as_text=True)
    assert ">42<" in own and ">31<" not in own
    assert f"/outreach/{mine.id}/edit" in own
    commune = client.get("/outreach/?view=unit").get_data(as_text=True)
    assert ">42<" in commune and ">31<" in commune and ">53<" not in commune
    assert f"/outreach/{teammate_entry.id}/edit" not in commune
    other = client_for(world.users["caseworker_b"])
    subtree = other.get("/outreach/?view=unit").get_data(as_text=True)
    assert ">53<" in subtree and ">42<" not in subtree
    assert other.get(f"/outreach/?view=unit&org_unit={world.commune_a.id}").status_code == 404


def test_indicators_page_shows_scope_figures(world, client_for, clock):
    OutreachActivityFactory(org_unit=world.commune_a, held_on=TODAY, reached_students=17)
    db.session.commit()
    html = client_for(world.users["caseworker"]).get("/outreach/indicators").get_data(as_text=True)
    assert "1 / 1" in html and ">17<" in html
    html = client_for(world.users["volunteer_b"]).get("/outreach/indicators").get_data(as_text=True)
    assert "0 / 1" in html and "Xã Kim Đông" in html


def test_home_panel_for_volunteer_and_caseworker_only(world, client_for):
    for name, shown in (("volunteer", True), ("caseworker", True), ("supervisor", False)):
        html = client_for(world.users[name]).get("/home").get_data(as_text=True)
        assert ("Hoạt động tuyên truyền" in html) is shown, name


def test_api_csrf_header_required_for_cookie_sessions(
    app, client, world, login_as, clock, monkeypatch
):
    login_as(world.users["volunteer"])
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    html = client.get("/outreach/new").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    refused = client.post("/api/v1/outreach", json=payload())
    assert refused.status_code == 400 and refused.json["error"] == "csrf"
    accepted = client.post("/api/v1/outreach", json=payload(), headers={"X-CSRFToken": token})
    assert accepted.status_code == 201
    assert count() == 1


def test_api_paths_are_in_the_openapi_document():
    from app import openapi

    doc = openapi.document()
    assert set(doc["paths"]["/api/v1/outreach"]) == {"get", "post"}
    assert "get" in doc["paths"]["/api/v1/outreach/{activity_id}"]
    assert "OutreachActivityInput" in doc["components"]["schemas"]


def test_form_in_english(world, client_for, clock):
    client = client_for(world.users["volunteer"])
    client.post("/language", data={"lang": "en", "next": "/outreach/new"})
    html = client.get("/outreach/new").get_data(as_text=True)
    assert "Log outreach activity" in html and "Industrial-zone workers" in html
    assert "No names — counts only." in html


def page_weight(client) -> dict[str, int]:
    """gzip -9 sizes of what the phone downloads for the form: HTML, app.css, outreach.js."""
    import gzip

    html = client.get("/outreach/new").data
    parts = {"html": html}
    for src in re.findall(rb'(?:href|src)="(/static/[^"]+\.(?:css|js))"', html):
        response = client.get(src.decode())
        parts[src.decode().rsplit("/", 1)[-1]] = response.data
        response.close()
    return {name: len(gzip.compress(data, 9)) for name, data in parts.items()}


def test_form_page_weighs_under_30_kb_compressed(world, client_for, clock):
    sizes = page_weight(client_for(world.users["caseworker"]))
    assert set(sizes) == {"html", "app.css", "app.js", "outreach.js"}
    assert sum(sizes.values()) <= 30 * 1024, sizes


def test_api_with_bearer_token_needs_no_csrf(app, client, world, clock, monkeypatch):
    from app.cases.tokens import create_api_token
    from app.permissions import Actor

    _token, plain = create_api_token(Actor.from_user(world.users["caseworker"]), "điện thoại")
    db.session.commit()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    headers = {"Authorization": f"Bearer {plain}"}
    created = client.post("/api/v1/outreach", json=payload(world.commune_a.id), headers=headers)
    assert created.status_code == 201, created.json
    assert created.json["created_by_id"] == world.users["caseworker"].id
    assert client.get("/api/v1/outreach", headers=headers).json["total"] == 1
    assert client.get("/api/v1/outreach").status_code == 401
    wrong = {"Authorization": "Bearer cn_not-a-token"}
    assert client.post("/api/v1/outreach", json=payload(), headers=wrong).status_code == 401


def test_service_worker_is_served_with_its_scope(client):
    response = client.get("/outreach/sw.js")
    assert response.status_code == 200
    assert response.headers["Service-Worker-Allowed"] == "/outreach/"
    assert "javascript" in response.mimetype
    assert b"caunoi-outreach-v2" in response.data
    response.close()


def test_caseworker_must_choose_a_commune(world, client_for, clock):
    client = client_for(world.users["caseworker"])
    data = form_data(world.commune_a.id)
    del data["org_unit_id"]
    response = client.post("/outreach/new", data=data)
    assert response.status_code == 400
    assert "Hãy chọn một xã/phường." in response.get_data(as_text=True)
    assert count() == 0
