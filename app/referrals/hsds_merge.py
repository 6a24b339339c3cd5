"""HSDS files as they come, and the three-way merge that makes export lossless.

Official HSDS files come in several shapes: an organization with its services and locations
nested (`organization_full`), a service with its organization and service-at-locations nested
(`service_full`), a service-at-location with its service and location (`service_at_location_full`),
a location on its own, or Cầu Nối's own document of lists. `normalize` walks any of them and
returns Cầu Nối's document (every object once, linked by id) plus the original of each object,
verbatim, minus only the objects nested in it that are kept on their own.

Cầu Nối models a part of HSDS. To give back everything else, each imported object keeps its
original and a *baseline*: Cầu Nối's own JSON of the object right after the import. Export is
`three_way(original, baseline, ours_now)`: the original with exactly the changes made in Cầu Nối
since (nothing changed: the original itself, field for field).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

# Nested objects kept as objects of their own, removed from their parent's original.
NESTED = {
    "organization": ("services", "locations"),
    "service": ("organization", "service_at_locations"),
    "service_at_location": ("service", "location"),
    "location": (),
}


def kind_of(obj: dict) -> str:
    """Which HSDS object a root object of a file is (HSDS objects carry no type)."""
    if "service" in obj and "location" in obj:
        return "service_at_location"
    if "location_type" in obj:
        return "location"
    if "status" in obj and ("organization" in obj or "organization_id" in obj or "name" in obj):
        if "services" not in obj and "locations" not in obj:
            return "service"
    return "organization"


def strip(kind: str, obj: dict) -> dict:
    return {k: copy.deepcopy(v) for k, v in obj.items() if k not in NESTED[kind]}


@dataclass
class Normalized:
    """Cầu Nối's document of the file, and the original of each object by (kind, id)."""

    document: dict
    originals: dict[tuple[str, str], dict] = field(default_factory=dict)


class _Walker:
    def __init__(self):
        self.orgs: dict[str, dict] = {}
        self.services: dict[str, dict] = {}
        self.loose_locations: dict[str, dict] = {}
        self.org_locations: dict[str, str] = {}  # location id -> organization id
        self.originals: dict[tuple[str, str], dict] = {}

    def _keep(self, kind: str, obj: dict) -> bool:
        """Remember the first original of each object; False when already seen."""
        key = (kind, str(obj.get("id")))
        if key in self.originals:
            return False
        self.originals[key] = strip(kind, obj)
        return True

    def organization(self, org: dict) -> str:
        org_id = str(org.get("id"))
        if self._keep("organization", org):
            self.orgs[org_id] = {**strip("organization", org), "locations": []}
        for loc in org.get("locations") or []:
            self.location(loc, org_id)
        for svc in org.get("services") or []:
            self.service(svc, org_id)
        return org_id

    def location(self, loc: dict, org_id: str | None) -> str:
        loc_id = str(loc.get("id"))
        org_id = org_id or loc.get("organization_id")
        if self._keep("location", loc):
            if org_id and org_id in self.orgs:
                self.orgs[org_id]["locations"].append(copy.deepcopy(loc))
                self.org_locations[loc_id] = org_id
            else:
                self.loose_locations[loc_id] = copy.deepcopy(loc)
        return loc_id

    def service(self, svc: dict, org_id: str | None) -> str:
        svc_id = str(svc.get("id"))
        if isinstance(svc.get("organization"), dict):
            org_id = self.organization(svc["organization"])
        org_id = org_id or svc.get("organization_id")
        if self._keep("service", svc):
            self.services[svc_id] = {
                **strip("service", svc),
                "organization_id": org_id,
                "service_at_locations": [],
            }
        for sal in svc.get("service_at_locations") or []:
            self.service_at_location(sal, svc_id, org_id)
        return svc_id

    def service_at_location(self, sal: dict, svc_id: str | None, org_id: str | None) -> None:
        if isinstance(sal.get("service"), dict):
            svc_id = self.service(sal["service"], org_id)
        location_id = sal.get("location_id")
        if isinstance(sal.get("location"), dict):
            owner = org_id or (self.services.get(svc_id) or {}).get("organization_id")
            location_id = self.location(sal["location"], owner)
        if self._keep("service_at_location", sal) and svc_id in self.services:
            self.services[svc_id]["service_at_locations"].append(
                {
                    **strip("service_at_location", sal),
                    "service_id": svc_id,
                    "location_id": location_id,
                }
            )


def _is_caunoi_document(document: dict) -> bool:
    return any(
        k in document for k in ("organizations", "services", "locations", "taxonomy_terms")
    ) and not ("id" in document and "name" in document)


def _listed(document: dict, key: str) -> list:
    items = document.get(key) or []
    return items if isinstance(items, list) else []


def normalize(document) -> Normalized:
    """Any accepted shape -> Cầu Nối's document plus the originals; unknown shapes pass as is."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        document = document["contents"]  # an HSDS API page
    roots = document if isinstance(document, list) else None
    walker = _Walker()
    extra: dict = {}
    if roots is None:
        if not isinstance(document, dict):
            return Normalized(document)
        if not document:
            return Normalized({"organizations": [], "services": []})
        if _is_caunoi_document(document):
            extra = {k: document.get(k, []) for k in ("taxonomies", "taxonomy_terms")}
            roots = [("organization", o) for o in _listed(document, "organizations")]
            roots += [("service", s) for s in _listed(document, "services")]
            roots += [("location", loc) for loc in _listed(document, "locations")]
        else:
            roots = [(kind_of(document), document)]
    else:
        roots = [(kind_of(r) if isinstance(r, dict) else "?", r) for r in roots]
    for kind, obj in roots:
        if not isinstance(obj, dict):
            continue
        if kind == "organization":
            walker.organization(obj)
        elif kind == "service":
            walker.service(obj, None)
        elif kind == "location":
            walker.location(obj, None)
        elif kind == "service_at_location":
            walker.service_at_location(obj, None, None)
    normalized = {
        **extra,
        "organizations": list(walker.orgs.values()),
        "services": list(walker.services.values()),
    }
    if walker.loose_locations:
        normalized["locations"] = list(walker.loose_locations.values())
    return Normalized(normalized, walker.originals)


def record_count(document: dict) -> int:
    return sum(len(document.get(k) or []) for k in ("organizations", "services", "locations"))


# -- the three-way merge -----------------------------------------------------------------------


def _ids(items) -> list | None:
    """The ids of a list of objects, or None when it is not such a list."""
    if not isinstance(items, list) or not all(isinstance(i, dict) and "id" in i for i in items):
        return None
    return [i["id"] for i in items]


def three_way(original, baseline, ours):
    """`original` with the changes that turned `baseline` into `ours` (see the module text)."""
    if ours == baseline:
        return copy.deepcopy(original)
    if isinstance(ours, dict) and isinstance(baseline, dict) and isinstance(original, dict):
        result = copy.deepcopy(original)
        for key in set(baseline) | set(ours):
            if key not in ours:
                result.pop(key, None)  # removed in Cầu Nối
            elif ours[key] != baseline.get(key):
                result[key] = three_way(original.get(key), baseline.get(key), ours[key])
        return result
    if (
        _ids(ours) is not None
        and _ids(baseline) is not None
        and _ids(original) is not None
        and isinstance(original, list)
    ):
        base = {i["id"]: i for i in baseline}
        mine = {i["id"]: i for i in ours}
        result = []
        for item in original:
            if item["id"] in base and item["id"] not in mine:
                continue  # deleted in Cầu Nối
            if item["id"] in mine:
                item = three_way(item, base.get(item["id"], mine[item["id"]]), mine[item["id"]])
            result.append(copy.deepcopy(item))
        seen = {i["id"] for i in original}
        result += [copy.deepcopy(i) for i in ours if i["id"] not in seen]
        return result
    return copy.deepcopy(ours)
