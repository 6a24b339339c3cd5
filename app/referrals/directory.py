"""Partner directory actions: organizations, their locations and services (HSDS objects)."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.audit import services as audit
from app.categories import SupportCategory
from app.extensions import db
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

ORG_FIELDS = ("name", "alternate_name", "description", "email", "website", "org_unit_id")
LOCATION_FIELDS = (
    "name",
    "description",
    "transportation",
    "address_1",
    "address_2",
    "city",
    "state_province",
    "postal_code",
    "latitude",
    "longitude",
)
SERVICE_FIELDS = (
    "name",
    "alternate_name",
    "description",
    "url",
    "email",
    "status",
    "category",
    "eligibility_description",
    "fees_description",
    "application_process",
    "languages",
    "is_accepting_referrals",
    "response_days",
)


def _require(actor: Actor) -> None:
    if not permissions.can_manage_directory(actor):
        raise PermissionDenied


def _set(obj, values: dict, names) -> list[str]:
    changed = []
    for name in names:
        if name in values and getattr(obj, name) != values[name]:
            setattr(obj, name, values[name])
            changed.append(name)
    return changed


def _set_phone(
    org_id,
    number: str | None,
    *,
    service=None,
    location=None,
    contact=None,
    existing: list[PartnerPhone],
) -> bool:
    """Keep exactly one phone for the owner: the number given (none when blank)."""
    number = (number or "").strip()
    current = existing[0] if existing else None
    if current is not None and current.number == number:
        return False
    if current is not None:
        db.session.delete(current)
    if number:
        db.session.add(
            PartnerPhone(
                organization_id=org_id,
                number=number,
                type="voice",
                service_id=service.id if service else None,
                location_id=location.id if location else None,
                contact_id=contact.id if contact else None,
            )
        )
    return current is not None or bool(number)


def save_organization(
    actor: Actor, org: PartnerOrganization | None, values: dict, phone: str | None = None
) -> PartnerOrganization:
    """Create or update an organization of the directory."""
    _require(actor)
    created = org is None
    if created:
        org = PartnerOrganization()
        db.session.add(org)
    changed = _set(org, values, ORG_FIELDS)
    db.session.flush()
    if _set_phone(org.id, phone, existing=list(org.phones)):
        changed.append("phones")
    db.session.flush()
    db.session.expire(org, ["phones"])
    audit.record(
        actor,
        "partner.created" if created else "partner.updated",
        org,
        details={"changed_fields": changed},
    )
    return org


def save_location(
    actor: Actor,
    org: PartnerOrganization,
    location: PartnerLocation | None,
    values: dict,
    phone: str | None = None,
) -> PartnerLocation:
    """Add or update a place where the organization delivers services."""
    _require(actor)
    created = location is None
    if created:
        location = PartnerLocation(organization=org, location_type="physical")
        db.session.add(location)
    changed = _set(location, values, LOCATION_FIELDS)
    db.session.flush()
    if _set_phone(org.id, phone, location=location, existing=list(location.phones)):
        changed.append("phones")
    db.session.flush()
    db.session.expire(location, ["phones"])
    audit.record(
        actor, "partner.updated", org, details={"changed_fields": changed or ["locations"]}
    )
    return location


@dataclass
class ServiceInput:
    values: dict
    area_ids: list[int] = field(default_factory=list)
    location_ids: list = field(default_factory=list)
    phone: str | None = None
    contact_name: str | None = None
    contact_title: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None


def save_service(
    actor: Actor, org: PartnerOrganization, service: PartnerService | None, data: ServiceInput
) -> PartnerService:
    """Create or update a service: category, eligibility, areas, places, contact person."""
    from app.orgs.models import OrgUnit

    _require(actor)
    SupportCategory(data.values.get("category", service.category if service else None))
    created = service is None
    if created:
        service = PartnerService(organization=org)
        db.session.add(service)
    changed = _set(service, data.values, SERVICE_FIELDS)
    db.session.flush()
    areas = [db.session.get(OrgUnit, i) for i in data.area_ids]
    if {a.id for a in service.areas} != {a.id for a in areas if a}:
        service.areas = [a for a in areas if a is not None]
        changed.append("service_areas")
    wanted = {str(i) for i in data.location_ids}
    own = {str(loc.id): loc for loc in org.locations}
    current = {str(sal.location_id): sal for sal in service.service_at_locations}
    for loc_id, sal in current.items():
        if loc_id not in wanted:
            service.service_at_locations.remove(sal)
    for loc_id in wanted - current.keys():
        if loc_id in own:
            service.service_at_locations.append(PartnerServiceAtLocation(location=own[loc_id]))
    if wanted != set(current):
        changed.append("service_at_locations")
    if _set_phone(org.id, data.phone, service=service, existing=list(service.phones)):
        changed.append("phones")
    if _save_contact(org, service, data):
        changed.append("contacts")
    db.session.flush()
    db.session.expire(service, ["phones", "contacts"])
    audit.record(
        actor,
        "partner.created" if created else "partner.updated",
        service,
        details={"changed_fields": changed, "category": service.category},
    )
    return service


def _save_contact(org, service, data: ServiceInput) -> bool:
    name = (data.contact_name or "").strip()
    contact = service.contacts[0] if service.contacts else None
    if not name:
        if contact is None:
            return False
        for phone in contact.phones:
            db.session.delete(phone)
        db.session.delete(contact)
        return True
    if contact is None:
        contact = PartnerContact(organization_id=org.id, service=service, name=name)
        db.session.add(contact)
    changed = _set(
        contact,
        {
            "name": name,
            "title": (data.contact_title or "").strip() or None,
            "email": (data.contact_email or "").strip() or None,
        },
        ("name", "title", "email"),
    )
    db.session.flush()
    return _set_phone(
        org.id, data.contact_phone, contact=contact, existing=list(contact.phones)
    ) or bool(changed)


def attach_partner(actor: Actor, user, org: PartnerOrganization | None) -> None:
    """Give a user of role partner the organization whose referrals they see (or none).

    Admins only (and the command line).
    """
    from app.permissions import Role

    if not (actor.is_system or actor.has_role(Role.ADMIN)):
        raise PermissionDenied
    if user.role != Role.PARTNER:
        raise ValueError("only users of role partner belong to a partner organization")
    user.partner_organization_id = org.id if org is not None else None
    db.session.flush()
    audit.record(
        actor,
        "partner.attached",
        user,
        details={"partner_organization": str(org.id) if org else None},
    )
