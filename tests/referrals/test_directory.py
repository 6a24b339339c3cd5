"""Directory pages: who may search and manage, the forms, HSDS import/export, partner users."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orgs.models import User
from app.referrals.models import PartnerOrganization, PartnerService
from tests.conftest import audit_actions
from tests.referrals.factories import make_org, make_service


@pytest.mark.parametrize(
    ("role", "search", "manage"),
    [
        ("admin", 200, 200),
        ("caseworker", 200, 200),
        ("volunteer", 200, 403),
        ("supervisor", 200, 403),
        ("partner", 403, 403),
    ],
)
def test_directory_access_by_role(client, world, login_as, role, search, manage):
    org = make_org("Trung tâm")
    service = make_service(org, "jobs", [world.province])
    db.session.commit()
    login_as(world.users[role])
    assert client.get("/partners/").status_code == search
    assert client.get(f"/partners/organizations/{org.id}").status_code == search
    assert client.get(f"/partners/services/{service.id}").status_code == search
    assert client.get("/partners/organizations/new").status_code == manage
    assert client.get(f"/partners/services/{service.id}/edit").status_code == manage
    assert client.get("/partners/export.json").status_code == manage
    assert client.get("/partners/import").status_code == manage


def test_search_by_category_and_area(client, world, login_as):
    org = make_org("Cơ sở")
    make_service(org, "jobs", [world.district_a], name="Việc làm huyện A")
    make_service(org, "jobs", [world.district_b], name="Việc làm huyện B")
    make_service(org, "loans", [world.province], name="Vay vốn toàn tỉnh")
    db.session.commit()
    login_as(world.users["volunteer"])
    page = client.get("/partners/?category=jobs&area=37-A1").get_data(as_text=True)
    assert "Việc làm huyện A" in page and "Việc làm huyện B" not in page
    assert "Vay vốn toàn tỉnh" not in page
    page = client.get("/partners/?area=37-A").get_data(as_text=True)
    assert "Vay vốn toàn tỉnh" in page and "Việc làm huyện B" not in page


def test_caseworker_creates_organization_location_and_service(client, world, login_as):
    login_as(world.users["caseworker"])
    bad = client.post("/partners/organizations/new", data={"name": "", "description": ""})
    assert bad.status_code == 400 and "Vui lòng điền mục này" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(PartnerOrganization.id))) == 0
    response = client.post(
        "/partners/organizations/new",
        data={
            "name": "Trung tâm Trợ giúp pháp lý",
            "description": "Miễn phí",
            "phone": "0229 111",
            "org_unit_id": "0",
        },
    )
    assert response.status_code == 302
    org = db.session.scalar(sa.select(PartnerOrganization))
    response = client.post(
        f"/partners/organizations/{org.id}/locations/new",
        data={
            "name": "Trụ sở",
            "address_1": "1 Lê Lợi",
            "city": "Hoa Lư",
            "state_province": "Ninh Bình",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    location = org.locations[0]
    data = {
        "name": "Tư vấn pháp luật",
        "category": "legal_aid",
        "status": "active",
        "description": "Tư vấn",
        "languages": ["vi"],
        "areas": [str(world.district_a.id)],
        "locations": [str(location.id)],
        "contact_name": "Luật sư Minh",
        "contact_phone": "0912 000",
        "is_accepting_referrals": "y",
        "response_days": "4",
    }
    assert (
        client.post(
            f"/partners/organizations/{org.id}/services/new", data={**data, "response_days": "400"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/partners/organizations/{org.id}/services/new", data={**data, "areas": []}
        ).status_code
        == 400
    )
    assert (
        client.post(f"/partners/organizations/{org.id}/services/new", data=data).status_code == 302
    )
    service = db.session.scalar(sa.select(PartnerService))
    assert service.response_days == 4 and [a.code for a in service.areas] == ["37-A"]
    assert service.locations == [location] and service.contacts[0].name == "Luật sư Minh"
    edit = client.get(f"/partners/services/{service.id}/edit").get_data(as_text=True)
    assert "Luật sư Minh" in edit
    assert audit_actions().count("partner.created") == 2


def test_export_and_import_through_pages(client, world, login_as):
    org = make_org("Trường nghề")
    make_service(org, "vocational_training", [world.province], name="Học may")
    db.session.commit()
    login_as(world.users["admin"])
    exported = client.get("/partners/export.json")
    assert exported.status_code == 200
    document = json.loads(exported.get_data(as_text=True))
    assert document["services"][0]["name"] == "Học may"
    zipped = client.get("/partners/export.zip")
    assert zipped.mimetype == "application/zip"
    document["services"][0]["name"] = "Học may (đã sửa)"
    response = client.post(
        "/partners/import",
        data={"file": (io.BytesIO(json.dumps(document).encode()), "hsds.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(sa.select(PartnerService.name)) == "Học may (đã sửa)"
    document["services"][0]["status"] = "open-ish"
    document["services"][0]["name"] = "Không được lưu"
    refused = client.post(
        "/partners/import",
        data={"file": (io.BytesIO(json.dumps(document).encode()), "hsds.json")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 400 and "status" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(sa.select(PartnerService.name)) == "Học may (đã sửa)"
    actions = audit_actions()
    assert actions.count("partner.exported") == 2 and actions.count("partner.imported") == 1


def test_admin_attaches_partner_user(client, world, login_as):
    org = make_org("Phòng khám")
    db.session.commit()
    partner = world.users["partner"]
    login_as(world.users["admin"])
    page = client.get(f"/partners/organizations/{org.id}").get_data(as_text=True)
    assert "Gắn vào cơ sở này" in page
    response = client.post(
        f"/partners/organizations/{org.id}/users", data={"user_id": partner.id, "action": "attach"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(User, partner.id).partner_organization_id == org.id
    not_partner = client.post(
        f"/partners/organizations/{org.id}/users", data={"user_id": world.users["caseworker"].id}
    )
    assert not_partner.status_code == 404
    assert "partner.attached" in audit_actions()


def test_attach_partner_command(app, world):
    org = make_org("Phòng khám")
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["referrals", "attach-partner", "partner", str(org.id)])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.get(User, world.users["partner"].id).partner_organization_id == org.id
    refused = runner.invoke(args=["referrals", "attach-partner", "caseworker", str(org.id)])
    assert refused.exit_code != 0
    unknown = runner.invoke(args=["referrals", "attach-partner", "partner", "nope"])
    assert unknown.exit_code != 0
