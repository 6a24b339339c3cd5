"""The partner directory out as HSDS 3.0, giving back every field it came in with.

Each object is exported as `three_way(original, baseline, ours)` (see hsds_merge): an object
imported from an official file and not changed since comes out exactly as it came in; one
created in Cầu Nối is Cầu Nối's own JSON. Two forms:

- Cầu Nối's document (`export_document`): lists of organizations (with their locations),
  services (with `organization_id` and their service-at-locations), locations of no
  organization, and Cầu Nối's taxonomies; the JSON download, and the CSV tables;
- the official nested shapes of the HSDS API (`organization_full`, `service_full`,
  `service_at_location_full`, `location`), as the official example files are.
"""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.referrals import hsds
from app.referrals.hsds_merge import three_way
from app.referrals.models import (
    PartnerLocation,
    PartnerOrganization,
    PartnerService,
    PartnerServiceAtLocation,
)


def _kept(obj, ours: dict) -> dict:
    if obj.hsds_original is None:
        return ours
    return three_way(obj.hsds_original, obj.hsds_baseline, ours)


def organization_out(org: PartnerOrganization) -> dict:
    return _kept(org, hsds.organization_own_json(org))


def location_out(loc: PartnerLocation) -> dict:
    return _kept(loc, hsds.location_json(loc))


def service_out(service: PartnerService) -> dict:
    return _kept(service, hsds.service_own_json(service))


def service_at_location_out(sal: PartnerServiceAtLocation) -> dict:
    return _kept(sal, hsds.service_at_location_own_json(sal))


# -- the official nested shapes ----------------------------------------------------------------


def _organization_with_locations(org: PartnerOrganization) -> dict:
    return {**organization_out(org), "locations": [location_out(loc) for loc in org.locations]}


def _sals_with_location(service: PartnerService) -> list[dict]:
    return [
        {**service_at_location_out(sal), "location": location_out(sal.location)}
        for sal in service.service_at_locations
    ]


def organization_full(org: PartnerOrganization) -> dict:
    return {
        **_organization_with_locations(org),
        "services": [
            {**service_out(s), "service_at_locations": _sals_with_location(s)} for s in org.services
        ],
    }


def service_full(service: PartnerService) -> dict:
    return {
        **service_out(service),
        "organization": _organization_with_locations(service.organization),
        "service_at_locations": _sals_with_location(service),
    }


def service_at_location_full(sal: PartnerServiceAtLocation) -> dict:
    service = sal.service
    return {
        **service_at_location_out(sal),
        "service": {
            **service_out(service),
            "organization": _organization_with_locations(service.organization),
        },
        "location": location_out(sal.location),
    }


SHAPES = {
    "organization": (PartnerOrganization, organization_full),
    "service": (PartnerService, service_full),
    "service_at_location": (PartnerServiceAtLocation, service_at_location_full),
    "location": (PartnerLocation, location_out),
}


# -- Cầu Nối's document ------------------------------------------------------------------------


def export_document() -> dict:
    orgs = list(
        db.session.execute(
            sa.select(PartnerOrganization).order_by(PartnerOrganization.name)
        ).scalars()
    )
    loose = list(
        db.session.execute(
            sa.select(PartnerLocation)
            .where(PartnerLocation.organization_id.is_(None))
            .order_by(PartnerLocation.name)
        ).scalars()
    )
    document = {
        "taxonomies": hsds.taxonomies(),
        "taxonomy_terms": hsds.taxonomy_terms(),
        "organizations": [_organization_with_locations(o) for o in orgs],
        "services": [
            {
                **service_out(s),
                "organization_id": str(s.organization_id),
                "service_at_locations": [
                    {
                        **service_at_location_out(sal),
                        "service_id": str(sal.service_id),
                        "location_id": str(sal.location_id),
                    }
                    for sal in s.service_at_locations
                ],
            }
            for org in orgs
            for s in org.services
        ],
    }
    if loose:
        document["locations"] = [location_out(loc) for loc in loose]
    return document


def export_object(actor, kind: str, obj, shape) -> dict:
    """One directory object in its official shape; audited like the whole directory's export."""
    from app.audit import services as audit

    body = shape(obj)
    audit.record(
        actor,
        "partner.exported",
        object_type="partner_directory",
        object_ref=str(obj.id),
        details={"format": f"hsds-{kind}", "count": 1},
    )
    return body
