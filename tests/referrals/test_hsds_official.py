"""The official HSDS 3.0 example files come in as they are and go out the same, field by field."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from app.extensions import db
from app.permissions import Actor
from app.referrals import hsds, hsds_export, hsds_taxonomy
from app.referrals.models import PartnerLocation, PartnerService, TaxonomyMapping

EXAMPLES = Path(__file__).resolve().parents[3] / "shared" / "standards" / "hsds-3.0" / "examples"
if not (EXAMPLES / "organization_full.json").exists():
    pytest.skip(f"the official HSDS examples are not at {EXAMPLES}", allow_module_level=True)

SYSTEM = Actor.system("tests")
FILES = {
    "organization_full.json": "organization",
    "service_full.json": "service",
    "service_at_location_full.json": "service_at_location",
    "location.json": "location",
}


def _example(name: str) -> dict:
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def _differences(expected, actual, path="$") -> list[str]:
    """Every field that differs, by its path (so a failure names the lost field)."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        out = []
        for key in sorted(set(expected) | set(actual)):
            if key not in actual:
                out.append(f"{path}.{key}: lost")
            elif key not in expected:
                out.append(f"{path}.{key}: added")
            else:
                out += _differences(expected[key], actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in _differences(e, a, f"{path}[{i}]")
        ]
    return [] if expected == actual else [f"{path}: {expected!r} != {actual!r}"]


@pytest.mark.parametrize("name", sorted(FILES))
def test_official_example_round_trips_field_by_field(world, name):
    example = _example(name)
    counts = hsds.import_document(SYSTEM, example)
    assert sum(counts.values()) > 0
    db.session.flush()
    db.session.expire_all()
    model, shape = hsds_export.SHAPES[FILES[name]]
    exported = shape(db.session.get(model, uuid.UUID(example["id"])))
    assert _differences(example, exported) == []


def test_an_edit_in_cau_noi_changes_only_that_field(world):
    example = _example("service_full.json")
    hsds.import_document(SYSTEM, example)
    service = db.session.get(PartnerService, uuid.UUID(example["id"]))
    service.name = "Tư vấn cộng đồng"
    db.session.flush()
    exported = hsds_export.service_full(service)
    differences = _differences(example, exported)
    assert differences[0].startswith("$.last_modified")  # it did change
    assert differences[1:] == ["$.name: 'Community Counselling' != 'Tư vấn cộng đồng'"]


def test_importing_the_same_file_again_duplicates_nothing(world):
    import sqlalchemy as sa

    example = _example("organization_full.json")
    hsds.import_document(SYSTEM, example)
    hsds.import_document(SYSTEM, example)
    assert db.session.scalar(sa.select(sa.func.count(PartnerService.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(PartnerLocation.id))) == 1


def test_address_type_and_loose_location_are_kept(world):
    example = _example("location.json")
    hsds.import_document(SYSTEM, example)
    location = db.session.get(PartnerLocation, uuid.UUID(example["id"]))
    assert location.organization_id is None
    assert location.address_type == example["addresses"][0]["address_type"]
    org_example = _example("organization_full.json")
    hsds.import_document(SYSTEM, org_example)
    located = db.session.get(PartnerLocation, uuid.UUID(org_example["locations"][0]["id"]))
    assert located.address_type == "postal"
    assert hsds.location_json(located)["addresses"][0]["address_type"] == "postal"


def test_unmapped_terms_leave_the_service_unclassified_until_an_admin_maps_them(world):
    example = _example("organization_full.json")
    hsds.import_document(SYSTEM, example)
    service = db.session.get(PartnerService, uuid.UUID(example["services"][0]["id"]))
    assert service.category is None and not service.is_referrable
    assert service in hsds_taxonomy.unclassified_services()
    term = example["services"][0]["attributes"][0]["taxonomy_term"]
    mapping = db.session.query(TaxonomyMapping).filter_by(term_id=term["id"]).one()
    assert mapping.category is None and mapping.code == term["code"]
    admin = Actor.from_user(world.users["admin"])
    assert hsds_taxonomy.map_term(admin, mapping, "counselling") == [service]
    assert service.category == "counselling" and service.is_referrable
    # the export still gives back the original attribute (and adds Cầu Nối's category)
    exported = hsds_export.service_out(service)
    assert exported["attributes"][0] == example["services"][0]["attributes"][0]
    # a second file with the same term is classified at once
    attribute = {**example["services"][0]["attributes"][0], "id": str(uuid.uuid4())}
    second = {
        "id": str(uuid.uuid4()),
        "organization_id": example["id"],
        "name": "Tham vấn nhóm",
        "status": "active",
        "attributes": [attribute],
    }
    hsds.import_document(SYSTEM, second)
    assert db.session.get(PartnerService, uuid.UUID(second["id"])).category == "counselling"


def test_other_service_areas_are_kept_as_text(world):
    example = _example("service_full.json")
    hsds.import_document(SYSTEM, example)
    service = db.session.get(PartnerService, uuid.UUID(example["id"]))
    assert service.areas == []
    assert service.area_texts == [example["service_areas"][0]["name"]]


@pytest.mark.parametrize(
    "document", [{}, [], {"organizations": []}, {"contents": []}, {"services": []}]
)
def test_a_file_with_no_records_is_refused(world, document):
    with pytest.raises(hsds.ImportFailed) as failure:
        hsds.import_document(SYSTEM, document)
    assert "không có gì được nhập" in failure.value.errors[0]


def test_page_refuses_an_empty_file_and_imports_an_official_example(client, world, login_as):
    import io

    login_as(world.users["admin"])
    empty = client.post(
        "/partners/import",
        data={"file": (io.BytesIO(b"{}"), "empty.json")},
        content_type="multipart/form-data",
    )
    assert empty.status_code == 400 and "không có gì được nhập" in empty.get_data(as_text=True)
    body = (EXAMPLES / "organization_full.json").read_bytes()
    ok = client.post(
        "/partners/import",
        data={"file": (io.BytesIO(body), "organization_full.json")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    directory = client.get("/partners/").get_data(as_text=True)
    assert "Community Counselling" in directory and "Chưa phân loại" in directory


def test_csv_datapackage_has_the_official_file_names_and_re_imports(world):
    import io
    import zipfile

    for name in ("organization_full.json", "location.json"):
        hsds.import_document(SYSTEM, _example(name))
    document = hsds_export.export_document()
    data = hsds.export_csv_zip(document)
    archive = zipfile.ZipFile(io.BytesIO(data))
    official = json.loads((EXAMPLES.parent / "datapackage.json").read_text())
    paths = {r["path"] for r in official["resources"]}
    names = set(archive.namelist()) - {"datapackage.json"}
    assert names <= paths and "service_at_location.csv" in names
    package = json.loads(archive.read("datapackage.json"))
    assert {r["path"] for r in package["resources"]} == names
    again = hsds.document_from_csv_zip(data)
    assert hsds.validation_errors(again) == []
    counts = hsds.import_document(SYSTEM, again)
    assert counts["services"] == 1 and counts["organizations"] == 1


def test_admin_maps_a_term_on_the_page_and_downloads_the_official_shape(client, world, login_as):
    from tests.conftest import audit_actions

    example = _example("organization_full.json")
    hsds.import_document(SYSTEM, example)
    db.session.commit()
    login_as(world.users["admin"])
    page = client.get("/partners/taxonomy").get_data(as_text=True)
    assert "Community Counselling" in page and "Chưa phân loại" in page
    mapping = db.session.query(TaxonomyMapping).one()
    refused = client.post(f"/partners/taxonomy/{mapping.id}", data={"category": "nonsense"})
    assert refused.status_code == 303
    db.session.expire_all()
    assert db.session.get(TaxonomyMapping, mapping.id).category is None
    saved = client.post(f"/partners/taxonomy/{mapping.id}", data={"category": "counselling"})
    assert saved.status_code == 302
    db.session.expire_all()
    service = db.session.get(PartnerService, uuid.UUID(example["services"][0]["id"]))
    assert service.category == "counselling"
    assert "partner.updated" in audit_actions()
    shape = client.get(f"/partners/hsds/location/{example['locations'][0]['id']}.json")
    assert shape.status_code == 200
    assert json.loads(shape.get_data(as_text=True)) == example["locations"][0]
    assert client.get("/partners/hsds/nothing/x.json").status_code == 404


@pytest.mark.parametrize("role", ["supervisor", "volunteer", "partner"])
def test_mapping_and_shapes_are_for_directory_managers_only(client, world, login_as, role):
    example = _example("location.json")
    hsds.import_document(SYSTEM, example)
    db.session.commit()
    login_as(world.users[role])
    assert client.get("/partners/taxonomy").status_code == 403
    assert client.get(f"/partners/hsds/location/{example['id']}.json").status_code == 403
