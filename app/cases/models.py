"""Cases, needs, consents, notes and break-glass grants.

Identifying fields are `*_enc` columns sealed with the case's own data key (app.crypto.envelope);
the associated data binds each ciphertext to its table, column and row. Everything reports count
(org unit, birth-year band, needs, status, dates) is stored in clear so reports never decrypt.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import UTCDateTime, utcnow
from app.extensions import db


class CaseStatus(StrEnum):
    OPEN = "open"
    ACTIVE = "active"
    CLOSED = "closed"


class ClosedReason(StrEnum):
    GOALS_MET = "goals_met"
    MOVED_AWAY = "moved_away"
    WITHDREW = "withdrew"
    LOST_CONTACT = "lost_contact"
    DECEASED = "deceased"
    OTHER = "other"


class ReachedVia(StrEnum):
    OUTREACH = "outreach"
    PEER = "peer"
    SELF = "self"
    HEALTH_SERVICE = "health_service"
    POLICE = "police"
    OTHER = "other"


class NeedPriority(StrEnum):
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class NeedStatus(StrEnum):
    OPEN = "open"
    MET = "met"
    DECLINED = "declined"
    NO_LONGER_NEEDED = "no_longer_needed"


class ConsentMethod(StrEnum):
    VERBAL = "verbal"
    WRITTEN = "written"
    THUMBPRINT = "thumbprint"


BIRTH_YEAR_BANDS = ("<18", "18-24", "25-34", "35-44", "45+")

# The identifying fields every role working on the case may see, in the order pages show them.
IDENTIFYING_FIELDS = (
    "full_name",
    "other_names",
    "preferred_name",
    "date_of_birth",
    "phone",
    "address",
    "id_number",
)
# Fields volunteers never see (DESIGN.md, "Who uses it").
SENSITIVE_FIELDS = ("health_details", "violence_details")
# The encrypted columns of `cases`, in the order the rights page shows them.
ENCRYPTED_FIELDS = IDENTIFYING_FIELDS + SENSITIVE_FIELDS


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"))
    status: Mapped[str] = mapped_column(sa.String(10), default=CaseStatus.OPEN, index=True)
    closed_reason: Mapped[str | None] = mapped_column(sa.String(20))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_on: Mapped[date] = mapped_column(sa.Date, index=True)
    opened_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    birth_year_band: Mapped[str | None] = mapped_column(sa.String(8))
    reached_via: Mapped[str] = mapped_column(sa.String(20), default=ReachedVia.OTHER)
    is_minor: Mapped[bool] = mapped_column(default=False)
    is_restricted: Mapped[bool] = mapped_column(default=False)
    restricted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data_key_id: Mapped[int | None] = mapped_column(sa.ForeignKey("data_keys.id"))

    full_name_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    other_names_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    preferred_name_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    date_of_birth_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    phone_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    address_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    id_number_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    health_details_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    violence_details_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    # Transfer: requested by a caseworker here, accepted by a caseworker of the target unit.
    transfer_to_org_unit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("org_units.id"), index=True
    )
    transfer_requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    transfer_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    org_unit = relationship("OrgUnit", foreign_keys=[org_unit_id])
    transfer_to_org_unit = relationship("OrgUnit", foreign_keys=[transfer_to_org_unit_id])
    opened_by = relationship("User", foreign_keys=[opened_by_id])
    assigned_to = relationship("User", foreign_keys=[assigned_to_id])
    data_key = relationship("DataKey")
    needs: Mapped[list[Need]] = relationship(
        back_populates="case", order_by="Need.id", cascade="all, delete-orphan"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="case", order_by="Consent.id", cascade="all, delete-orphan"
    )
    notes: Mapped[list[CaseNote]] = relationship(
        back_populates="case", order_by="CaseNote.id", cascade="all, delete-orphan"
    )

    # A unit's cases by id: the case list reads each unit's newest cases from it
    # (app.cases.queries.list_page); it is also the index on org_unit_id.
    __table_args__ = (sa.Index("ix_cases_org_unit_id_id", "org_unit_id", "id"),)
    __audit_type__ = "case"

    @property
    def audit_ref(self) -> str:
        return self.code

    @property
    def is_erased(self) -> bool:
        return self.erased_at is not None

    def __repr__(self) -> str:
        return f"<Case {self.code}>"


class CaseSearchToken(db.Model):
    """One blind-index token of a case (app.crypto.blind_index): a whole word of a name, a
    phone or an ID number, as a truncated row-independent tag to look up and a proof bound to
    the case's row and column to confirm. Written with the field (app.cases.search)."""

    __tablename__ = "case_search_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(sa.String(20))
    kind: Mapped[str] = mapped_column(sa.String(10))
    tag: Mapped[int]
    proof: Mapped[bytes] = mapped_column(sa.LargeBinary(16))
    proof_exact: Mapped[bytes | None] = mapped_column(sa.LargeBinary(16))
    # The case's province (app.cases.search_province): a caseworker's search walks only hers.
    # None above the provinces.
    province_id: Mapped[int | None]

    __table_args__ = (
        sa.Index("ix_case_search_tokens_lookup", "kind", "tag", "case_id"),
        sa.Index("ix_case_search_tokens_province", "kind", "tag", "province_id", "case_id"),
    )

    def __repr__(self) -> str:
        return f"<CaseSearchToken {self.id} case={self.case_id} {self.field}>"


class AttachmentKind(StrEnum):
    CONSENT_SCAN = "consent_scan"
    DOCUMENT = "document"


class CaseAttachment(db.Model):
    """A scanned written consent or a document kept with the case (app.cases.attachments).

    The file is sealed with the case's data key, its associated data binding it to this table,
    column and row: erasing the case (destroying the key) erases it. What is in clear says
    nothing about her: the kind, the media type checked from the content, the size, who and when.
    """

    __tablename__ = "case_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    media_type: Mapped[str] = mapped_column(sa.String(40))
    size: Mapped[int]
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    content_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary, deferred=True)

    case: Mapped[Case] = relationship()
    uploaded_by = relationship("User")

    def __repr__(self) -> str:
        return f"<CaseAttachment {self.id} case={self.case_id} {self.media_type}>"


class CaseCodeSequence(db.Model):
    """Per-prefix, per-year counter; incremented under the row's write lock."""

    __tablename__ = "case_code_sequences"

    prefix: Mapped[str] = mapped_column(sa.String(4), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_value: Mapped[int] = mapped_column(default=0)


class Need(db.Model):
    __tablename__ = "needs"
    __table_args__ = (
        # "Has an open need of this category" and "an urgent open need" (the case list's
        # filters) answered from the index for each case of the scope, never from the row:
        # the capped count of Hà Nội's health list 22 -> 12 ms at a million cases.
        sa.Index(
            "ix_needs_case_id_status_category_priority", "case_id", "status", "category", "priority"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"))
    category: Mapped[str] = mapped_column(sa.String(30), index=True)
    priority: Mapped[str] = mapped_column(sa.String(10), default=NeedPriority.NORMAL)
    status: Mapped[str] = mapped_column(sa.String(20), default=NeedStatus.OPEN, index=True)
    identified_on: Mapped[date] = mapped_column(sa.Date)
    closed_on: Mapped[date | None] = mapped_column(sa.Date)

    case: Mapped[Case] = relationship(back_populates="needs")

    __audit_type__ = "need"

    def __repr__(self) -> str:
        return f"<Need {self.id} {self.category} {self.status}>"


class Consent(db.Model):
    __tablename__ = "consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    # "record", "share:<category>", "contact_phone", "share_hiv", "share_health_details",
    # "share_violence_details"
    purpose: Mapped[str] = mapped_column(sa.String(40))
    method: Mapped[str] = mapped_column(sa.String(12))
    text_version: Mapped[str] = mapped_column(sa.String(20))
    given_by: Mapped[str] = mapped_column(sa.String(10), default="self")
    guardian_relation: Mapped[str | None] = mapped_column(sa.String(60))
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Why it was withdrawn (app.cases.consents.WITHDRAWAL_REASONS): a code, never free text.
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.String(30))

    case: Mapped[Case] = relationship(back_populates="consents")
    recorded_by = relationship("User", foreign_keys=[recorded_by_id])
    withdrawn_by = relationship("User", foreign_keys=[withdrawn_by_id])

    @property
    def in_force(self) -> bool:
        return self.withdrawn_at is None

    def __repr__(self) -> str:
        return f"<Consent {self.id} {self.purpose}>"


class CaseNote(db.Model):
    """Append-only: no service updates or deletes a note."""

    __tablename__ = "case_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Notes about health, violence or trafficking: hidden from volunteers.
    is_sensitive: Mapped[bool] = mapped_column(default=False)
    body_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)

    case: Mapped[Case] = relationship(back_populates="notes")
    author = relationship("User")

    def __repr__(self) -> str:
        return f"<CaseNote {self.id}>"


class BreakGlassGrant(db.Model):
    """An admin's stated-reason access to one case for a short window."""

    __tablename__ = "break_glass_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("cases.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    reason: Mapped[str] = mapped_column(sa.String(500))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user = relationship("User")
