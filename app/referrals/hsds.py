"""Open Referral HSDS 3.0 export and import of the partner directory (JSON and CSV).

The document is `{"organizations": [...], "services": [...], "taxonomies": [...],
"taxonomy_terms": [...]}`; every object in it validates against the official HSDS 3.0 JSON
schema of its kind (copied in app/referrals/data/, CC BY-SA 4.0, see HSDS-LICENSE there).
The support category is an `attribute` linking the service to a `taxonomy_term` of the Cầu Nối
support-category taxonomy; whether the service accepts referrals and its response time in days
are attributes too. Areas served are `service_area` objects whose `extent` is the org unit's
official code. CSV is the HSDS tabular form: one file per table, in a ZIP.

An import checks everything first (schemas, references, codes) and changes nothing on any error.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
import zipfile
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from app.audit import services as audit
from app.categories import CATEGORY_LABELS, SupportCategory
from app.db import utcnow
from app.extensions import db
from app.imports.bounds import FileRefused, Limits, open_archive, read_upload, too_many_rows
from app.permissions import Actor, PermissionDenied
from app.referrals import permissions
from app.referrals.models import (
    PartnerContact,
    PartnerLocation,
    PartnerOrganization,
    PartnerPhone,
    PartnerService,
    PartnerServiceAtLocation,
)

SCHEMA_DIR = Path(__file__).resolve().parent / "data"
NAMESPACE = uuid.UUID("6f1f7a1e-2b1c-4f57-9a39-1f0c2a7b5e10")
CATEGORY_TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:support-category")
SETTINGS_TAXONOMY_ID = uuid.uuid5(NAMESPACE, "taxonomy:referral-settings")
ACCEPTING = "accepting_referrals"
RESPONSE_DAYS = "response_days"
EXTENT_TYPE = "org_unit_code"
LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English", "km": "ខ្មែរ", "zh": "中文"}
KINDS = {
    "organizations": "organization.json",
    "services": "service.json",
    "locations": "location.json",
    "taxonomies": "taxonomy.json",
    "taxonomy_terms": "taxonomy_term.json",
}


NO_RECORDS = _l("Tệp không có cơ sở, dịch vụ hay địa điểm nào: không có gì được nhập.")


# A province's partner directory is a few hundred records; LIMITS.rows records (CSV rows over
# all the tables, or organizations, services and locations of a JSON document) keep the
# import's one transaction short.
LIMITS = Limits(rows=2000, bytes=5 * 1024 * 1024, unpacked=40 * 1024 * 1024)


class ImportFailed(Exception):
    """The file was refused; `errors` lists every problem found (nothing was changed)."""

    def __init__(self, errors: list[str]):
        super().__init__(f"{len(errors)} problem(s)")
        self.errors = errors


# -- schemas -----------------------------------------------------------------------------------


@cache
def schema_registry(directory: str = str(SCHEMA_DIR)) -> Registry:
    """Every HSDS object schema of the folder, under its file name (the `$ref`s use them)."""
    resources = []
    for path in sorted(Path(directory).glob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        if contents.get("type") != "object" or "properties" not in contents:
            continue
        resources.append((path.name, Resource.from_contents(contents, DRAFT202012)))
    return Registry().with_resources(resources)


def validator(schema_file: str, directory: str = str(SCHEMA_DIR)) -> Draft202012Validator:
    return Draft202012Validator(
        {"$ref": schema_file}, registry=schema_registry(directory), format_checker=FormatChecker()
    )


def validation_errors(document: dict, directory: str = str(SCHEMA_DIR)) -> list[str]:
    """Schema errors of every object of the document, each with its place."""
    errors = []
    if not isinstance(document, dict):
        return ["document: not a JSON object"]
    for kind, schema_file in KINDS.items():
        items = document.get(kind, [])
        if not isinstance(items, list):
            errors.append(f"{kind}: not a list")
            continue
        check = validator(schema_file, directory)
        for i, item in enumerate(items):
            for error in sorted(check.iter_errors(item), key=lambda e: list(e.path)):
                place = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.path)
                errors.append(f"{kind}[{i}]{place}: {error.message[:200]}")
    return errors


# -- export ------------------------------------------------------------------------------------


def _uid(*parts) -> str:
    return str(uuid.uuid5(NAMESPACE, ":".join(str(p) for p in parts)))


def _clean(obj: dict) -> dict:
    """HSDS optional fields: omit the empty ones rather than send nulls."""
    return {k: v for k, v in obj.items() if v not in (None, "")}


def category_term_id(category: str) -> str:
    return _uid("term", "support-category", category)


def setting_term_id(code: str) -> str:
    return _uid("term", "referral-settings", code)


def taxonomies() -> list[dict]:
    return [
        {
            "id": str(CATEGORY_TAXONOMY_ID),
            "name": "caunoi-support-category",
            "description": "Support categories named by the Vietnamese provincial plans",
        },
        {
            "id": str(SETTINGS_TAXONOMY_ID),
            "name": "caunoi-referral-settings",
            "description": "Cầu Nối referral settings of a service",
        },
    ]


def taxonomy_terms() -> list[dict]:
    terms = [
        {
            "id": category_term_id(c.value),
            "code": c.value,
            "name": str(CATEGORY_LABELS[c]),
            "description": str(CATEGORY_LABELS[c]),
            "taxonomy": "caunoi-support-category",
            "taxonomy_id": str(CATEGORY_TAXONOMY_ID),
            "language": "vi",
        }
        for c in SupportCategory
    ]
    terms += [
        {
            "id": setting_term_id(ACCEPTING),
            "code": ACCEPTING,
            "name": "Accepting referrals",
            "description": "Whether the service accepts referrals now (true/false)",
            "taxonomy": "caunoi-referral-settings",
            "taxonomy_id": str(SETTINGS_TAXONOMY_ID),
        },
        {
            "id": setting_term_id(RESPONSE_DAYS),
            "code": RESPONSE_DAYS,
            "name": "Expected response time (days)",
            "description": "Days the service takes to answer a referral",
            "taxonomy": "caunoi-referral-settings",
            "taxonomy_id": str(SETTINGS_TAXONOMY_ID),
        },
    ]
    return terms


def _term(term_id: str) -> dict:
    return next(t for t in taxonomy_terms() if t["id"] == term_id)


def phone_json(phone: PartnerPhone) -> dict:
    return _clean(
        {
            "id": str(phone.id),
            "number": phone.number,
            "type": phone.type,
            "description": phone.description,
            "organization_id": str(phone.organization_id) if phone.organization_id else None,
            "service_id": str(phone.service_id) if phone.service_id else None,
            "location_id": str(phone.location_id) if phone.location_id else None,
            "contact_id": str(phone.contact_id) if phone.contact_id else None,
        }
    )


def contact_json(contact: PartnerContact) -> dict:
    return _clean(
        {
            "id": str(contact.id),
            "organization_id": str(contact.organization_id),
            "service_id": str(contact.service_id) if contact.service_id else None,
            "name": contact.name,
            "title": contact.title,
            "email": contact.email,
            "phones": [phone_json(p) for p in contact.phones],
        }
    )


def location_json(loc: PartnerLocation) -> dict:
    address = _clean(
        {
            "id": str(loc.address_id),
            "location_id": str(loc.id),
            "address_1": loc.address_1,
            "address_2": loc.address_2,
            "region": loc.region,
        }
    )
    # Required by HSDS even when empty (Vietnamese addresses often have no postal code).
    address.update(
        city=loc.city or "",
        state_province=loc.state_province or "",
        postal_code=loc.postal_code or "",
        country=loc.country or "VN",
        address_type=loc.address_type or "physical",
        address_1=loc.address_1 or "",
    )
    return _clean(
        {
            "id": str(loc.id),
            "location_type": loc.location_type,
            "organization_id": str(loc.organization_id) if loc.organization_id else None,
            "name": loc.name,
            "description": loc.description,
            "transportation": loc.transportation,
            "latitude": loc.latitude,
            "longitude": loc.longitude,
            "addresses": [address],
            "phones": [phone_json(p) for p in loc.phones],
        }
    )


def organization_json(org: PartnerOrganization) -> dict:
    return {
        **_clean(
            {
                "id": str(org.id),
                "name": org.name,
                "alternate_name": org.alternate_name,
                "email": org.email,
                "website": org.website,
            }
        ),
        "description": org.description or "",
        "phones": [phone_json(p) for p in org.phones],
        "contacts": [contact_json(c) for c in org.contacts],
        "locations": [location_json(loc) for loc in org.locations],
    }


def _attribute(service: PartnerService, term_id: str, link_type: str, value=None) -> dict:
    return _clean(
        {
            "id": _uid("attribute", service.id, link_type),
            "link_id": str(service.id),
            "link_type": link_type,
            "link_entity": "service",
            "taxonomy_term_id": term_id,
            "value": value,
            "taxonomy_term": _term(term_id),
        }
    )


def service_json(service: PartnerService) -> dict:
    sid = str(service.id)
    return {
        **_clean(
            {
                "id": sid,
                "organization_id": str(service.organization_id),
                "name": service.name,
                "alternate_name": service.alternate_name,
                "description": service.description,
                "url": service.url,
                "email": service.email,
                "status": service.status,
                "eligibility_description": service.eligibility_description,
                "fees_description": service.fees_description,
                "application_process": service.application_process,
                "last_modified": service.updated_at.isoformat() if service.updated_at else None,
            }
        ),
        "languages": [
            {
                "id": _uid("language", sid, code),
                "service_id": sid,
                "code": code,
                "name": LANGUAGE_NAMES.get(code, code),
            }
            for code in service.language_codes
        ],
        "service_areas": [
            {
                "id": _uid("area", sid, unit.code),
                "service_id": sid,
                "name": unit.name,
                "extent": unit.code,
                "extent_type": EXTENT_TYPE,
            }
            for unit in service.areas
        ],
        "service_at_locations": [
            {"id": str(sal.id), "service_id": sid, "location_id": str(sal.location_id)}
            for sal in service.service_at_locations
        ],
        "phones": [phone_json(p) for p in service.phones],
        "contacts": [contact_json(c) for c in service.contacts],
        "attributes": [
            *(
                [_attribute(service, category_term_id(service.category), "support_category")]
                if service.category
                else []
            ),
            _attribute(
                service,
                setting_term_id(ACCEPTING),
                ACCEPTING,
                "true" if service.is_accepting_referrals else "false",
            ),
            _attribute(
                service, setting_term_id(RESPONSE_DAYS), RESPONSE_DAYS, str(service.response_days)
            ),
        ],
    }


# -- CSV (HSDS tabular form) -------------------------------------------------------------------

TABLES: dict[str, tuple[str, ...]] = {
    "organizations.csv": ("id", "name", "alternate_name", "description", "email", "website"),
    "locations.csv": (
        "id",
        "organization_id",
        "location_type",
        "name",
        "description",
        "transportation",
        "latitude",
        "longitude",
    ),
    "addresses.csv": (
        "id",
        "location_id",
        "address_1",
        "address_2",
        "city",
        "region",
        "state_province",
        "postal_code",
        "country",
        "address_type",
    ),
    "services.csv": (
        "id",
        "organization_id",
        "name",
        "alternate_name",
        "description",
        "url",
        "email",
        "status",
        "eligibility_description",
        "fees_description",
        "application_process",
        "last_modified",
    ),
    "contacts.csv": ("id", "organization_id", "service_id", "name", "title", "email"),
    "phones.csv": (
        "id",
        "organization_id",
        "service_id",
        "location_id",
        "contact_id",
        "number",
        "type",
        "description",
    ),
    "service_at_location.csv": ("id", "service_id", "location_id"),
    "service_areas.csv": ("id", "service_id", "name", "extent", "extent_type"),
    "languages.csv": ("id", "service_id", "name", "code"),
    "attributes.csv": ("id", "link_id", "link_type", "link_entity", "taxonomy_term_id", "value"),
    "taxonomies.csv": ("id", "name", "description"),
    "taxonomy_terms.csv": (
        "id",
        "code",
        "name",
        "description",
        "taxonomy",
        "taxonomy_id",
        "language",
    ),
}


def _rows(document: dict) -> dict[str, list[dict]]:
    rows: dict[str, list[dict]] = {name: [] for name in TABLES}
    rows["taxonomies.csv"] = document.get("taxonomies", [])
    rows["taxonomy_terms.csv"] = document.get("taxonomy_terms", [])

    def phones(items):
        rows["phones.csv"].extend(items)

    def contacts(items):
        for contact in items:
            rows["contacts.csv"].append(contact)
            phones(contact.get("phones", []))

    for org in document.get("organizations", []):
        rows["organizations.csv"].append(org)
        phones(org.get("phones", []))
        contacts(org.get("contacts", []))
        for loc in org.get("locations", []):
            rows["locations.csv"].append(loc)
            rows["addresses.csv"].extend(loc.get("addresses", []))
            phones(loc.get("phones", []))
    for service in document.get("services", []):
        rows["services.csv"].append(service)
        phones(service.get("phones", []))
        contacts(service.get("contacts", []))
        for key, table in (
            ("service_at_locations", "service_at_location.csv"),
            ("service_areas", "service_areas.csv"),
            ("languages", "languages.csv"),
            ("attributes", "attributes.csv"),
        ):
            rows[table].extend(service.get(key, []))
    return rows


def export_csv_zip(document: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, rows in _rows(document).items():
            text = io.StringIO()
            writer = csv.DictWriter(
                text, fieldnames=TABLES[name], extrasaction="ignore", lineterminator="\n"
            )
            writer.writeheader()
            for row in rows:
                writer.writerow(
                    {k: ("" if row.get(k) is None else row.get(k)) for k in TABLES[name]}
                )
            archive.writestr(name, text.getvalue())
        archive.writestr(
            "datapackage.json", json.dumps(datapackage(list(TABLES)), ensure_ascii=False, indent=1)
        )
    return buffer.getvalue()


_NUMBERS = {"latitude", "longitude"}
LEGACY_NAMES = {"service_at_location.csv": "service_at_locations.csv"}


@cache
def _official_package() -> dict:
    return json.loads((SCHEMA_DIR / "datapackage.json").read_text(encoding="utf-8"))


def _schema_of_table(name: str) -> str | None:
    for resource in _official_package()["resources"]:
        if resource["path"] == name:
            return f"{resource['name']}.json"
    return None


@cache
def required_columns(name: str) -> frozenset[str]:
    """Columns the official schema requires: an empty value there stays an empty string."""
    schema_file = _schema_of_table(name)
    if schema_file is None or not (SCHEMA_DIR / schema_file).exists():
        return frozenset()
    schema = json.loads((SCHEMA_DIR / schema_file).read_text(encoding="utf-8"))
    return frozenset(schema.get("required", []))


def datapackage(names: list[str]) -> dict:
    """The official datapackage descriptor, with the resources of the files written."""
    package = dict(_official_package())
    package["resources"] = [r for r in package["resources"] if r["path"] in names]
    return package


def _csv_value(key: str, value: str):
    if key in _NUMBERS:
        try:
            return float(value)
        except ValueError:
            return value  # the schema check reports it
    return value


def document_from_csv_zip(data: bytes) -> dict:
    """Rebuild the nested document from the HSDS CSV tables (the same checks then apply)."""
    try:
        archive = open_archive(data, LIMITS, "file: not a ZIP of HSDS CSV tables")
    except FileRefused as exc:
        raise ImportFailed([str(exc)]) from None
    tables: dict[str, list[dict]] = {}
    names = set(archive.namelist())
    rows_read = 0
    for name, columns in TABLES.items():
        # Files of Cầu Nối before it used the official name are still read.
        source = name if name in names else LEGACY_NAMES.get(name, name)
        if source not in names:
            tables[name] = []
            continue
        keep_empty = required_columns(name)
        text = archive.read(source).decode("utf-8-sig")
        reader = csv.DictReader(io.StringIO(text))
        missing = [c for c in ("id",) if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFailed([f"{name}: missing column id"])
        tables[name] = []
        for row in reader:
            rows_read += 1
            if rows_read > LIMITS.rows:  # counted while reading, over all the tables
                raise ImportFailed([str(too_many_rows(LIMITS))])
            tables[name].append(
                {
                    k: _csv_value(k, v)
                    for k, v in row.items()
                    if k in columns and (v not in (None, "") or (v == "" and k in keep_empty))
                }
            )

    def by(table: str, key: str, value) -> list[dict]:
        return [r for r in tables[table] if r.get(key) == value]

    def phones_of(**where) -> list[dict]:
        ((key, value),) = where.items()
        owners = ("service_id", "location_id", "contact_id")
        return [
            p
            for p in tables["phones.csv"]
            if p.get(key) == value and all(not p.get(o) for o in owners if o != key)
        ]

    def contact(c: dict) -> dict:
        return {**c, "phones": phones_of(contact_id=c["id"])}

    terms = {t["id"]: t for t in tables["taxonomy_terms.csv"]}
    organizations = []
    for org in tables["organizations.csv"]:
        locations = [
            {
                **loc,
                "addresses": by("addresses.csv", "location_id", loc["id"]),
                "phones": phones_of(location_id=loc["id"]),
            }
            for loc in by("locations.csv", "organization_id", org["id"])
        ]
        org_phones = [p for p in phones_of(organization_id=org["id"]) if not p.get("location_id")]
        org_contacts = [
            contact(c)
            for c in by("contacts.csv", "organization_id", org["id"])
            if not c.get("service_id")
        ]
        organizations.append(
            {**org, "phones": org_phones, "contacts": org_contacts, "locations": locations}
        )
    services = []
    for svc in tables["services.csv"]:
        attributes = []
        for attr in by("attributes.csv", "link_id", svc["id"]):
            term = terms.get(attr.get("taxonomy_term_id"))
            attributes.append({**attr, "taxonomy_term": term} if term else attr)
        services.append(
            {
                **svc,
                "phones": phones_of(service_id=svc["id"]),
                "contacts": [contact(c) for c in by("contacts.csv", "service_id", svc["id"])],
                "service_at_locations": by("service_at_location.csv", "service_id", svc["id"]),
                "service_areas": by("service_areas.csv", "service_id", svc["id"]),
                "languages": by("languages.csv", "service_id", svc["id"]),
                "attributes": attributes,
            }
        )
    return {
        "taxonomies": tables["taxonomies.csv"],
        "taxonomy_terms": tables["taxonomy_terms.csv"],
        "organizations": organizations,
        "services": services,
    }


# -- import ------------------------------------------------------------------------------------


def _attribute_code(attr: dict, terms: dict[str, dict]) -> str | None:
    term = attr.get("taxonomy_term") or terms.get(attr.get("taxonomy_term_id") or "") or {}
    return term.get("code")


def _service_settings(svc: dict, terms: dict[str, dict], where: str, errors: list[str]) -> dict:
    from app.referrals import hsds_taxonomy

    category = None
    settings: dict[str, Any] = {}
    for attr in svc.get("attributes", []):
        term = attr.get("taxonomy_term") or terms.get(attr.get("taxonomy_term_id") or "") or {}
        code = term.get("code")
        if term.get("id") == category_term_id(code or "") and code in set(SupportCategory):
            category = category or code
        elif code == ACCEPTING:
            value = str(attr.get("value", "")).lower()
            if value not in ("true", "false"):
                errors.append(f"{where}.attributes: {ACCEPTING} must be true or false")
            settings["is_accepting_referrals"] = value == "true"
        elif code == RESPONSE_DAYS:
            value = str(attr.get("value", ""))
            if not value.isdigit() or not 0 <= int(value) <= 365:
                errors.append(f"{where}.attributes: {RESPONSE_DAYS} must be 0-365 days")
            else:
                settings["response_days"] = int(value)
        elif term.get("id"):
            # Another taxonomy's term: its category is what the admins mapped it to (if yet).
            category = category or hsds_taxonomy.category_of_term(term)
    settings["category"] = category  # None: "chưa phân loại", never offered for referral
    return settings


def _plan(document: dict) -> tuple[list[str], dict]:
    """Every check before any change: schema, references, codes. Returns (errors, plan)."""
    from app.orgs.models import OrgUnit

    errors = validation_errors(document)
    if errors:
        return errors, {}
    terms = {t["id"]: t for t in document.get("taxonomy_terms", [])}
    orgs = document.get("organizations", [])
    ids = [o["id"] for o in orgs] + [s["id"] for s in document.get("services", [])]
    ids += [loc["id"] for loc in document.get("locations", [])]
    ids += [loc["id"] for o in orgs for loc in o.get("locations", [])]
    if len(ids) != len(set(ids)):
        errors.append("document: an id appears twice")
    org_ids = {o["id"] for o in orgs}
    known_orgs = {str(i) for i in db.session.execute(sa.select(PartnerOrganization.id)).scalars()}
    file_locations = {loc["id"]: o["id"] for o in orgs for loc in o.get("locations", [])}
    file_locations.update({loc["id"]: None for loc in document.get("locations", [])})
    db_locations = {
        str(loc_id): str(org_id) if org_id else None
        for loc_id, org_id in db.session.execute(
            sa.select(PartnerLocation.id, PartnerLocation.organization_id)
        )
    }
    units = {u.code: u.id for u in db.session.execute(sa.select(OrgUnit)).scalars()}
    services = []
    for i, svc in enumerate(document.get("services", [])):
        where = f"services[{i}]"
        org_id = svc.get("organization_id")
        if org_id not in org_ids and org_id not in known_orgs:
            errors.append(f"{where}.organization_id: unknown organization")
        settings = _service_settings(svc, terms, where, errors)
        areas = []
        for j, area in enumerate(svc.get("service_areas", [])):
            # Areas given as org-unit codes must be ours; any other extent stays as its text.
            if area.get("extent_type") != EXTENT_TYPE:
                continue
            if area.get("extent") not in units:
                errors.append(f"{where}.service_areas[{j}]: unknown org unit code")
            else:
                areas.append(units[area["extent"]])
        for j, sal in enumerate(svc.get("service_at_locations", [])):
            location_id = sal.get("location_id") or ""
            if location_id in file_locations:
                owner = file_locations[location_id]
            else:
                owner = db_locations.get(location_id, "unknown")
            if owner not in (org_id, None):
                errors.append(
                    f"{where}.service_at_locations[{j}]: location of another "
                    "organization or unknown"
                )
        languages = [lang.get("code") for lang in svc.get("languages", [])]
        if not all(languages):
            errors.append(f"{where}.languages: every language needs its code")
        services.append((svc, settings, areas, [lang for lang in languages if lang]))
    return errors, {
        "organizations": orgs,
        "services": services,
        "locations": document.get("locations", []),
    }


def _upsert(model, id_value: str, **values):
    obj = db.session.get(model, uuid.UUID(id_value))
    if obj is None:
        obj = model(id=uuid.UUID(id_value))
        db.session.add(obj)
    for key, value in values.items():
        setattr(obj, key, value)
    return obj


def _uuid_or_none(value) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None


def _import_phones(items: list[dict], org_id: str | None, **owner) -> None:
    for p in items:
        _upsert(
            PartnerPhone,
            p["id"],
            organization_id=_uuid_or_none(org_id),
            number=p["number"],
            type=p.get("type"),
            description=p.get("description"),
            service_id=_uuid_or_none(owner.get("service_id")),
            location_id=_uuid_or_none(owner.get("location_id")),
            contact_id=_uuid_or_none(owner.get("contact_id")),
        )


def _import_contacts(items: list[dict], org_id: str, service_id: str | None) -> None:
    for c in items:
        _upsert(
            PartnerContact,
            c["id"],
            organization_id=uuid.UUID(org_id),
            service_id=_uuid_or_none(service_id),
            name=c.get("name") or "",
            title=c.get("title"),
            email=c.get("email"),
        )
        db.session.flush()
        _import_phones(c.get("phones", []), org_id, contact_id=c["id"])


def _import_location(loc: dict, org_id: str | None) -> PartnerLocation:
    address = (loc.get("addresses") or [{}])[0]
    location = _upsert(
        PartnerLocation,
        loc["id"],
        organization_id=_uuid_or_none(org_id),
        location_type=loc["location_type"],
        name=loc.get("name") or "",
        description=loc.get("description"),
        transportation=loc.get("transportation"),
        latitude=loc.get("latitude"),
        longitude=loc.get("longitude"),
        address_id=_uuid_or_none(address.get("id")) or uuid.uuid4(),
        address_type=address.get("address_type") or "physical",
        address_1=address.get("address_1", ""),
        address_2=address.get("address_2"),
        city=address.get("city", ""),
        region=address.get("region"),
        state_province=address.get("state_province", ""),
        postal_code=address.get("postal_code", ""),
        country=(address.get("country") or "VN")[:2],
    )
    db.session.flush()
    _import_phones(loc.get("phones", []), org_id, location_id=loc["id"])
    return location


def _import_service(svc: dict, settings: dict, area_ids: list[int], languages: list[str]):
    from app.orgs.models import OrgUnit

    service = _upsert(
        PartnerService,
        svc["id"],
        organization_id=uuid.UUID(svc["organization_id"]),
        name=svc["name"],
        alternate_name=svc.get("alternate_name"),
        description=svc.get("description", ""),
        url=svc.get("url"),
        email=svc.get("email"),
        status=svc["status"],
        eligibility_description=svc.get("eligibility_description"),
        fees_description=svc.get("fees_description"),
        application_process=svc.get("application_process"),
        languages=" ".join(languages) or "vi",
        **settings,
    )
    db.session.flush()
    service.areas = [db.session.get(OrgUnit, i) for i in area_ids]
    wanted = {sal["location_id"]: sal["id"] for sal in svc.get("service_at_locations", [])}
    for sal in list(service.service_at_locations):
        if str(sal.location_id) not in wanted:
            service.service_at_locations.remove(sal)
    have = {str(sal.location_id) for sal in service.service_at_locations}
    for loc_id, sal_id in wanted.items():
        if loc_id not in have:
            service.service_at_locations.append(
                PartnerServiceAtLocation(id=uuid.UUID(sal_id), location_id=uuid.UUID(loc_id))
            )
    _import_phones(svc.get("phones", []), svc["organization_id"], service_id=svc["id"])
    _import_contacts(svc.get("contacts", []), svc["organization_id"], svc["id"])
    return service


def organization_own_json(org: PartnerOrganization) -> dict:
    """The organization alone: its locations are objects of their own."""
    return {k: v for k, v in organization_json(org).items() if k != "locations"}


def service_own_json(service: PartnerService) -> dict:
    """The service alone: its service-at-locations are objects of their own."""
    return {k: v for k, v in service_json(service).items() if k != "service_at_locations"}


def service_at_location_own_json(sal: PartnerServiceAtLocation) -> dict:
    return {
        "id": str(sal.id),
        "service_id": str(sal.service_id),
        "location_id": str(sal.location_id),
    }


# kind -> (model, Cầu Nối's own JSON of one object): what the baselines are made of.
OWN_JSON = {
    "organization": (PartnerOrganization, organization_own_json),
    "location": (PartnerLocation, location_json),
    "service": (PartnerService, service_own_json),
    "service_at_location": (PartnerServiceAtLocation, service_at_location_own_json),
}


def _keep_originals(originals: dict[tuple[str, str], dict]) -> None:
    """Each object keeps its original and Cầu Nối's JSON of it now (see hsds_merge)."""
    db.session.flush()
    db.session.expire_all()  # viewonly relationships (phones, contacts) read again
    for (kind, object_id), original in originals.items():
        model, own = OWN_JSON[kind]
        obj = db.session.get(model, uuid.UUID(object_id))
        if obj is None:
            continue
        with db.session.no_autoflush:
            if hasattr(obj, "updated_at"):
                # Set with the baseline in one UPDATE, so `onupdate` cannot move it after.
                obj.updated_at = utcnow()
            baseline = own(obj)
        obj.hsds_original, obj.hsds_baseline = original, baseline


def import_document(actor: Actor, document) -> dict[str, int]:
    """Check the whole document, then create or update by id. Raises ImportFailed, unchanged.

    Accepts every official HSDS shape (see hsds_merge); a file with no records is refused.
    """
    from app.referrals import hsds_merge

    if not permissions.can_manage_directory(actor):
        raise PermissionDenied
    normalized = hsds_merge.normalize(document)
    document = normalized.document
    if not isinstance(document, dict) or hsds_merge.record_count(document) == 0:
        raise ImportFailed([str(NO_RECORDS)])
    if hsds_merge.record_count(document) > LIMITS.rows:
        raise ImportFailed([str(too_many_rows(LIMITS))])
    errors, plan = _plan(document)
    if errors:
        raise ImportFailed(errors)
    for org in plan["organizations"]:
        _upsert(
            PartnerOrganization,
            org["id"],
            name=org["name"],
            alternate_name=org.get("alternate_name"),
            description=org.get("description", ""),
            email=org.get("email"),
            website=org.get("website"),
        )
        db.session.flush()
        _import_phones(org.get("phones", []), org["id"])
        _import_contacts(org.get("contacts", []), org["id"], None)
        for loc in org.get("locations", []):
            _import_location(loc, org["id"])
    for loc in plan["locations"]:
        _import_location(loc, None)
    for svc, settings, area_ids, languages in plan["services"]:
        _import_service(svc, settings, area_ids, languages)
    _keep_originals(normalized.originals)
    counts = {
        "organizations": len(plan["organizations"]),
        "services": len(plan["services"]),
        "locations": len(plan["locations"])
        + sum(len(o.get("locations", [])) for o in plan["organizations"]),
    }
    audit.record(
        actor,
        "partner.imported",
        object_type="partner_directory",
        details={"count": counts["services"], "rows": counts["organizations"]},
    )
    return counts


def parse_upload(filename: str, source) -> dict:
    """A .json HSDS document or a .zip of HSDS CSV tables, from bytes or an upload's stream
    (read within LIMITS)."""
    try:
        data = read_upload(source, LIMITS)
    except FileRefused as exc:
        raise ImportFailed([str(exc)]) from None
    if filename.lower().endswith(".zip"):
        return document_from_csv_zip(data)
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ImportFailed(["file: not valid JSON (UTF-8)"]) from None
