"""HSDS 3.0 export validates against the official schemas; imports are all-or-nothing."""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.extensions import db
from app.permissions import Actor
from app.referrals import directory, hsds, hsds_export
from app.referrals.models import PartnerOrganization, PartnerService
from tests.referrals.factories import make_location, make_org, make_service

# The official schemas live in shared/ beside the repository (DESIGN.md, "Referrals").
OFFICIAL = Path(__file__).resolve().parents[3] / "shared" / "standards" / "hsds-3.0"
# Only the tests that compare with the official schemas need them; the others run anyway.
needs_official = pytest.mark.skipif(
    not (OFFICIAL / "organization.json").exists(),
    reason=f"the official HSDS 3.0 schemas are not at {OFFICIAL} (shared/ beside the repository)",
)

SYSTEM = Actor.system("tests")


def official_validator(schema_file: str) -> Draft202012Validator:
    """Built here from the official folder, independently of app/referrals/hsds.py."""
    resources = []
    for path in OFFICIAL.glob("*.json"):
        contents = json.loads(path.read_text())
        if contents.get("type") == "object":
            resources.append((path.name, Resource.from_contents(contents, DRAFT202012)))
    return Draft202012Validator(
        {"$ref": schema_file},
        registry=Registry().with_resources(resources),
        format_checker=FormatChecker(),
    )


@pytest.fixture
def directory_data(world):
    admin = Actor.from_user(world.users["admin"])
    org = directory.save_organization(
        admin,
        None,
        {
            "name": "Trung tâm Y tế huyện A",
            "description": "Khám, xét nghiệm HIV/STI",
            "email": "ttyt@example.vn",
            "website": "https://ttyt.example.vn",
        },
        phone="0229 3871 234",
    )
    loc = directory.save_location(
        admin,
        org,
        None,
        {
            "name": "Cơ sở chính",
            "address_1": "1 Trần Hưng Đạo",
            "city": "Hoa Lư",
            "state_province": "Ninh Bình",
            "postal_code": "430000",
            "latitude": 20.25,
            "longitude": 105.97,
        },
        phone="0229 3871 000",
    )
    service = directory.save_service(
        admin,
        org,
        None,
        directory.ServiceInput(
            values={
                "name": "Xét nghiệm HIV miễn phí",
                "category": "health",
                "description": "Xét nghiệm nhanh, bảo mật",
                "eligibility_description": "Mọi người",
                "fees_description": "Miễn phí",
                "application_process": "Gọi trước",
                "languages": "vi en",
                "is_accepting_referrals": True,
                "response_days": 3,
            },
            area_ids=[world.district_a.id, world.commune_a.id],
            location_ids=[loc.id],
            phone="0229 3871 555",
            contact_name="Bác sĩ Hoa",
            contact_title="Trưởng khoa",
            contact_email="hoa@example.vn",
            contact_phone="0912 000 111",
        ),
    )
    db.session.commit()
    return org, loc, service


@needs_official
def test_export_validates_against_official_schemas(directory_data):
    document = hsds_export.export_document()
    assert len(document["organizations"]) == 1 and len(document["services"]) == 1
    kinds = {
        "organizations": "organization.json",
        "services": "service.json",
        "taxonomies": "taxonomy.json",
        "taxonomy_terms": "taxonomy_term.json",
    }
    for kind, schema in kinds.items():
        check = official_validator(schema)
        for item in document[kind]:
            errors = list(check.iter_errors(item))
            assert errors == [], (kind, [e.message for e in errors])
    service = document["services"][0]
    assert {a["extent"] for a in service["service_areas"]} == {"37-A", "37-A1"}
    assert {lang["code"] for lang in service["languages"]} == {"vi", "en"}
    assert service["contacts"][0]["phones"][0]["number"] == "0912 000 111"
    codes = {a["taxonomy_term"]["code"]: a.get("value") for a in service["attributes"]}
    assert codes == {"health": None, "accepting_referrals": "true", "response_days": "3"}
    for item in document["organizations"] + document["services"]:
        uuid.UUID(item["id"])


@needs_official
def test_official_validator_catches_a_broken_object(directory_data):
    service = hsds_export.export_document()["services"][0]
    service["id"] = "not-a-uuid"
    del service["status"]
    assert len(list(official_validator("service.json").iter_errors(service))) >= 2


def _wipe():
    for table in (
        "partner_service_areas",
        "partner_service_at_locations",
        "partner_phones",
        "partner_contacts",
        "partner_services",
        "partner_locations",
        "partner_organizations",
    ):
        db.session.execute(sa.text(f"DELETE FROM {table}"))  # noqa: S608
    db.session.flush()
    db.session.expire_all()


def _summary():
    services = db.session.scalars(sa.select(PartnerService)).all()
    return sorted(
        (
            s.name,
            s.category,
            s.response_days,
            s.is_accepting_referrals,
            s.languages,
            sorted(a.code for a in s.areas),
            len(s.service_at_locations),
            [p.number for p in s.phones],
            [(c.name, [p.number for p in c.phones]) for c in s.contacts],
            s.organization.name,
            [p.number for p in s.organization.phones],
            [(loc.address_1, [p.number for p in loc.phones]) for loc in s.organization.locations],
        )
        for s in services
    )


@pytest.mark.parametrize("form", ["json", "csv"])
def test_round_trip(directory_data, form):
    before = _summary()
    document = hsds_export.export_document()
    if form == "csv":
        document = hsds.document_from_csv_zip(hsds.export_csv_zip(document))
    _wipe()
    assert _summary() == []
    counts = hsds.import_document(SYSTEM, document)
    assert counts == {"organizations": 1, "services": 1, "locations": 1}
    db.session.expire_all()
    assert _summary() == before
    # Importing again updates by id: nothing is duplicated.
    hsds.import_document(SYSTEM, document)
    assert db.session.scalar(sa.select(sa.func.count(PartnerService.id))) == 1


@pytest.mark.parametrize(
    "breakage",
    ["bad_uuid", "unknown_area", "unknown_org", "bad_days", "missing_name"],
)
def test_import_checks_everything_first_and_changes_nothing(directory_data, world, breakage):
    document = hsds_export.export_document()
    good = copy.deepcopy(document)
    # A second, valid new organization in the same file must not be created either.
    new_org = copy.deepcopy(good["organizations"][0])
    new_org.update(id=str(uuid.uuid4()), name="Tổ chức mới", phones=[], contacts=[], locations=[])
    document["organizations"].append(new_org)
    service = document["services"][0]
    service["name"] = "Tên đã sửa"
    if breakage == "bad_uuid":
        service["phones"][0]["id"] = "123"
    elif breakage == "unknown_area":
        service["service_areas"][0]["extent"] = "99-Z"
    elif breakage == "unknown_org":
        service["organization_id"] = str(uuid.uuid4())
    elif breakage == "bad_days":
        service["attributes"][2]["value"] = "soon"
    elif breakage == "missing_name":
        del document["organizations"][0]["name"]
    with pytest.raises(hsds.ImportFailed) as failure:
        hsds.import_document(SYSTEM, document)
    assert failure.value.errors
    db.session.rollback()
    names = set(db.session.scalars(sa.select(PartnerOrganization.name)))
    assert names == {"Trung tâm Y tế huyện A"}
    assert db.session.scalar(sa.select(PartnerService.name)) == "Xét nghiệm HIV miễn phí"


@needs_official
def test_bundled_schemas_are_the_official_ones():
    bundled = hsds.SCHEMA_DIR
    for path in bundled.glob("*.json"):
        assert path.read_bytes() == (OFFICIAL / path.name).read_bytes()


@needs_official
def test_factories_directory_exports_valid(world):
    org = make_org("Trường Cao đẳng nghề")
    service = make_service(org, "vocational_training", [world.province])
    make_location(org, service)
    db.session.flush()
    assert hsds.validation_errors(hsds_export.export_document(), str(OFFICIAL)) == []
