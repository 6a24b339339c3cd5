"""Partner directory (Open Referral HSDS 3.0 names, UUID ids) and referrals (FHIR Task statuses).

Directory rows are public information about services: stored in clear. A referral's two notes
(the one for the partner, the internal one) and the notes of its history are sealed with the
case's own data key, so erasing the case makes them unreadable too.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db
from app.referrals.references import CLIENT_PREFIX, REFERRAL_PREFIX, unused_reference
from app.referrals.status import OPEN_STATUSES, ReferralStatus

# Areas served: the org units (province, district, commune) a service covers.
partner_service_areas = sa.Table(
    "partner_service_areas",
    db.Model.metadata,
    sa.Column("service_id", sa.Uuid, sa.ForeignKey("partner_services.id"), primary_key=True),
    sa.Column("org_unit_id", sa.ForeignKey("org_units.id"), primary_key=True, index=True),
)


class PartnerOrganization(db.Model):
    """HSDS `organization`."""

    __tablename__ = "partner_organizations"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    alternate_name: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    email: Mapped[str | None] = mapped_column(sa.String(200))
    website: Mapped[str | None] = mapped_column(sa.String(300))
    # Where the organization is based (optional; the areas a service covers are per service).
    org_unit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    hsds_original: Mapped[dict | None] = mapped_column(sa.JSON)
    hsds_baseline: Mapped[dict | None] = mapped_column(sa.JSON)

    org_unit = relationship("OrgUnit")
    services: Mapped[list[PartnerService]] = relationship(
        back_populates="organization", order_by="PartnerService.name"
    )
    locations: Mapped[list[PartnerLocation]] = relationship(
        back_populates="organization", order_by="PartnerLocation.name"
    )
    phones: Mapped[list[PartnerPhone]] = relationship(
        primaryjoin="and_(PartnerPhone.organization_id == PartnerOrganization.id, "
        "PartnerPhone.service_id.is_(None), PartnerPhone.location_id.is_(None), "
        "PartnerPhone.contact_id.is_(None))",
        viewonly=True,
        order_by="PartnerPhone.number",
    )
    contacts: Mapped[list[PartnerContact]] = relationship(
        primaryjoin="and_(PartnerContact.organization_id == PartnerOrganization.id, "
        "PartnerContact.service_id.is_(None))",
        viewonly=True,
    )

    __audit_type__ = "partner_organization"

    @property
    def audit_ref(self) -> str:
        return str(self.id)

    def __repr__(self) -> str:
        return f"<PartnerOrganization {self.id}>"


class PartnerLocation(db.Model):
    """HSDS `location` with its one `address` folded in (HSDS allows a location of no
    organization: the official `location.json` example is one)."""

    __tablename__ = "partner_locations"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("partner_organizations.id"), index=True
    )
    location_type: Mapped[str] = mapped_column(sa.String(10), default="physical")
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str | None] = mapped_column(sa.Text)
    transportation: Mapped[str | None] = mapped_column(sa.String(300))
    latitude: Mapped[float | None] = mapped_column(sa.Float)
    longitude: Mapped[float | None] = mapped_column(sa.Float)
    # HSDS address fields (address_type "physical").
    address_1: Mapped[str] = mapped_column(sa.String(300), default="")
    address_2: Mapped[str | None] = mapped_column(sa.String(300))
    city: Mapped[str] = mapped_column(sa.String(120), default="")
    region: Mapped[str | None] = mapped_column(sa.String(120))
    state_province: Mapped[str] = mapped_column(sa.String(120), default="")
    postal_code: Mapped[str] = mapped_column(sa.String(20), default="")
    country: Mapped[str] = mapped_column(sa.String(2), default="VN")
    # The stable id of the folded address object in HSDS exports and imports.
    address_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, default=uuid.uuid4)
    # HSDS address_type of the folded address: physical, postal or virtual.
    address_type: Mapped[str] = mapped_column(
        sa.String(10), default="physical", server_default="physical"
    )
    hsds_original: Mapped[dict | None] = mapped_column(sa.JSON)
    hsds_baseline: Mapped[dict | None] = mapped_column(sa.JSON)

    organization: Mapped[PartnerOrganization | None] = relationship(back_populates="locations")
    phones: Mapped[list[PartnerPhone]] = relationship(
        primaryjoin="and_(PartnerPhone.location_id == PartnerLocation.id, "
        "PartnerPhone.service_id.is_(None))",
        viewonly=True,
    )

    def __repr__(self) -> str:
        return f"<PartnerLocation {self.id}>"


class PartnerServiceAtLocation(db.Model):
    """HSDS `service_at_location`: where a service is delivered."""

    __tablename__ = "partner_service_at_locations"
    __table_args__ = (sa.UniqueConstraint("service_id", "location_id"),)

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("partner_services.id"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("partner_locations.id"), index=True
    )
    hsds_original: Mapped[dict | None] = mapped_column(sa.JSON)
    hsds_baseline: Mapped[dict | None] = mapped_column(sa.JSON)

    service: Mapped[PartnerService] = relationship(back_populates="service_at_locations")
    location: Mapped[PartnerLocation] = relationship()


class PartnerService(db.Model):
    """HSDS `service`, with the support category (a taxonomy term) and referral settings."""

    __tablename__ = "partner_services"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("partner_organizations.id"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    alternate_name: Mapped[str | None] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    url: Mapped[str | None] = mapped_column(sa.String(300))
    email: Mapped[str | None] = mapped_column(sa.String(200))
    # HSDS status: active, inactive, defunct, temporarily closed.
    status: Mapped[str] = mapped_column(sa.String(20), default="active")
    # None: imported under a taxonomy term no admin has mapped yet ("chưa phân loại"); such a
    # service is never offered for a referral until the term is mapped.
    category: Mapped[str | None] = mapped_column(sa.String(30), index=True)
    eligibility_description: Mapped[str | None] = mapped_column(sa.Text)
    fees_description: Mapped[str | None] = mapped_column(sa.Text)
    application_process: Mapped[str | None] = mapped_column(sa.Text)
    # ISO 639-1 codes separated by spaces ("vi en"); exported as HSDS `language` objects.
    languages: Mapped[str] = mapped_column(sa.String(100), default="vi")
    is_accepting_referrals: Mapped[bool] = mapped_column(default=True)
    response_days: Mapped[int] = mapped_column(default=5)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    hsds_original: Mapped[dict | None] = mapped_column(sa.JSON)
    hsds_baseline: Mapped[dict | None] = mapped_column(sa.JSON)

    organization: Mapped[PartnerOrganization] = relationship(back_populates="services")
    areas = relationship("OrgUnit", secondary=partner_service_areas, order_by="OrgUnit.path")
    service_at_locations: Mapped[list[PartnerServiceAtLocation]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    phones: Mapped[list[PartnerPhone]] = relationship(
        primaryjoin="and_(PartnerPhone.service_id == PartnerService.id, "
        "PartnerPhone.contact_id.is_(None))",
        viewonly=True,
    )
    contacts: Mapped[list[PartnerContact]] = relationship(back_populates="service")

    __audit_type__ = "partner_service"

    @property
    def audit_ref(self) -> str:
        return str(self.id)

    @property
    def language_codes(self) -> list[str]:
        return [code for code in (self.languages or "").split() if code]

    @property
    def locations(self) -> list[PartnerLocation]:
        return [sal.location for sal in self.service_at_locations]

    @property
    def area_texts(self) -> list[str]:
        """Areas an imported file named other than by org-unit code, kept as their text."""
        areas = (self.hsds_original or {}).get("service_areas") or []
        return [
            str(a.get("name") or a.get("extent") or a.get("description") or "")
            for a in areas
            if isinstance(a, dict) and a.get("extent_type") != "org_unit_code"
        ]

    @property
    def is_referrable(self) -> bool:
        return self.is_accepting_referrals and self.status == "active" and self.category is not None

    def __repr__(self) -> str:
        return f"<PartnerService {self.id} {self.category}>"


class PartnerContact(db.Model):
    """HSDS `contact`: the person to ask for at an organization or for a service."""

    __tablename__ = "partner_contacts"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("partner_organizations.id"), index=True
    )
    service_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("partner_services.id"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(200))
    title: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(sa.String(200))

    service: Mapped[PartnerService | None] = relationship(back_populates="contacts")
    phones: Mapped[list[PartnerPhone]] = relationship(
        primaryjoin="PartnerPhone.contact_id == PartnerContact.id", viewonly=True
    )


class PartnerPhone(db.Model):
    """HSDS `phone`, attached to an organization, a service, a location or a contact."""

    __tablename__ = "partner_phones"

    id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, primary_key=True, default=uuid.uuid4)
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("partner_organizations.id"), index=True
    )
    service_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("partner_services.id"), index=True
    )
    location_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("partner_locations.id"), index=True
    )
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("partner_contacts.id"), index=True
    )
    number: Mapped[str] = mapped_column(sa.String(40))
    type: Mapped[str | None] = mapped_column(sa.String(20))
    description: Mapped[str | None] = mapped_column(sa.String(200))


class TaxonomyMapping(db.Model):
    """An HSDS taxonomy term of imported files and the support category admins map it to.

    Terms arrive with imports; `category` None means not mapped yet, and the services that
    carry only unmapped terms stay "chưa phân loại" (out of referral choices).
    """

    __tablename__ = "taxonomy_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    term_id: Mapped[str] = mapped_column(sa.String(64), unique=True)
    taxonomy: Mapped[str] = mapped_column(sa.String(200), default="")
    code: Mapped[str] = mapped_column(sa.String(200), default="")
    name: Mapped[str] = mapped_column(sa.String(300), default="")
    category: Mapped[str | None] = mapped_column(sa.String(30))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __audit_type__ = "taxonomy_mapping"

    @property
    def audit_ref(self) -> str:
        return str(self.id)


def _new_partner_reference(context) -> str:
    return unused_reference(
        context.connection, Referral.__table__.c.partner_reference, REFERRAL_PREFIX
    )


def _new_client_reference(context) -> str:
    return unused_reference(
        context.connection, PartnerClientReference.__table__.c.reference, CLIENT_PREFIX
    )


class Referral(db.Model):
    """A case's need sent to a partner service and followed until it ends (closed loop)."""

    __tablename__ = "referrals"
    __table_args__ = (
        # Overdue requests (status, then the day the answer was due): the caseworker's home
        # reads the few of them, not every request of the country (3,600 rows read to keep
        # 420 at a million cases). Status alone is its first column.
        sa.Index("ix_referrals_status_respond_by", "status", "respond_by"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    # What the partner sees instead of the case code (app/referrals/references.py).
    partner_reference: Mapped[str] = mapped_column(
        sa.String(20), unique=True, default=_new_partner_reference
    )
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    need_id: Mapped[int] = mapped_column(sa.ForeignKey("needs.id"), index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("partner_services.id"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("partner_organizations.id"), index=True
    )
    # The need's support category, copied so consent checks and figures need no join.
    category: Mapped[str] = mapped_column(sa.String(30), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), default=ReferralStatus.DRAFT)
    priority: Mapped[str] = mapped_column(sa.String(10), default="routine")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    respond_by: Mapped[date | None] = mapped_column(sa.Date, index=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_on: Mapped[date | None] = mapped_column(sa.Date)
    # service_received / enrolled (completed only).
    outcome: Mapped[str | None] = mapped_column(sa.String(30))
    reason_code: Mapped[str | None] = mapped_column(sa.String(30))
    # The names of the fields shared with the partner (see app/referrals/sharing.py).
    shared_fields: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    # The internal note: for the caseworkers of the case only, it never leaves (not on the
    # partner's page, the slip, the API or FHIR). Notes written before the split stay here.
    # Sealed with the case's data key (table "referrals", column "note_enc", this row's id).
    note_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # The note for the partner, checked on save to hold no name, phone or ID number of the case
    # (app/referrals/partner_note.py). Sealed the same way (column "partner_note_enc").
    partner_note_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # HIV status stated for this referral, only with its own consent (Law on HIV/AIDS, Art. 30).
    hiv_status_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    # Set when sharing stopped (consent withdrawn, processing restricted, case erased).
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)

    case = relationship("Case")
    need = relationship("Need")
    service: Mapped[PartnerService] = relationship()
    organization: Mapped[PartnerOrganization] = relationship()
    created_by = relationship("User")
    events: Mapped[list[ReferralEvent]] = relationship(
        back_populates="referral", order_by="ReferralEvent.id", cascade="all, delete-orphan"
    )

    __audit_type__ = "referral"

    @property
    def audit_ref(self) -> str:
        return str(self.id)

    @property
    def org_unit_id(self) -> int | None:
        """The case's org unit: audit events of a referral sit where the case sits."""
        return self.case.org_unit_id if self.case is not None else None

    @property
    def is_open(self) -> bool:
        return ReferralStatus(self.status) in OPEN_STATUSES

    def is_overdue(self, today: date) -> bool:
        return (
            self.status == ReferralStatus.REQUESTED
            and self.respond_by is not None
            and self.respond_by < today
        )

    def __repr__(self) -> str:
        return f"<Referral {self.id} {self.status}>"


class ReferralEvent(db.Model):
    """One transition of a referral: from, to, who, when, why. Never updated or deleted."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    referral_id: Mapped[int] = mapped_column(sa.ForeignKey("referrals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(sa.String(20))
    to_status: Mapped[str] = mapped_column(sa.String(20))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    actor_username: Mapped[str] = mapped_column(sa.String(64), default="")
    actor_role: Mapped[str | None] = mapped_column(sa.String(20))
    reason_code: Mapped[str | None] = mapped_column(sa.String(30))
    # A caseworker recorded a partner's answer (given by phone, or verified by a call).
    recorded_by_caseworker: Mapped[bool] = mapped_column(default=False)
    # Who at the partner confirmed it (a staff member or role, never the client).
    verified_by: Mapped[str | None] = mapped_column(sa.String(200))
    service_date: Mapped[date | None] = mapped_column(sa.Date)
    # Sealed with the case's data key (table "referral_events", column "note_enc", row id).
    note_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    referral: Mapped[Referral] = relationship(back_populates="events")

    def __repr__(self) -> str:
        return f"<ReferralEvent {self.id} {self.from_status}->{self.to_status}>"


class PartnerClientReference(db.Model):
    """How one partner organization knows one woman across her referrals to it: shared only
    with her consent to be recognised (see app/referrals/references.py)."""

    __tablename__ = "partner_client_references"
    __table_args__ = (sa.UniqueConstraint("case_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("partner_organizations.id"), index=True
    )
    reference: Mapped[str] = mapped_column(
        sa.String(20), unique=True, default=_new_client_reference
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<PartnerClientReference {self.id}>"
