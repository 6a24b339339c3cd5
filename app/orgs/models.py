"""Org units and users."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.crypto import account_secrets
from app.db import UTCDateTime, utcnow
from app.extensions import db


class OrgLevel(StrEnum):
    CENTRAL = "central"  # the Central Women's Union, above the provinces (national deployment)
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    WARD = "ward"


# Which level may sit under which: the tree allows both the old three-level and the post-2025
# two-level administration (commune/ward directly under a province). A national deployment puts
# the one central unit above the provinces; a provincial one keeps its province at the top.
ALLOWED_PARENT_LEVELS: dict[OrgLevel, frozenset[OrgLevel | None]] = {
    OrgLevel.CENTRAL: frozenset({None}),
    OrgLevel.PROVINCE: frozenset({None, OrgLevel.CENTRAL}),
    OrgLevel.DISTRICT: frozenset({OrgLevel.PROVINCE}),
    OrgLevel.COMMUNE: frozenset({OrgLevel.PROVINCE, OrgLevel.DISTRICT}),
    OrgLevel.WARD: frozenset({OrgLevel.PROVINCE, OrgLevel.DISTRICT}),
}


class OrgUnit(db.Model):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    level: Mapped[str] = mapped_column(sa.String(20))
    parent_id: Mapped[int | None] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    # Materialized path of ids ("/1/4/17/"): a subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(sa.String(400), index=True, default="")
    is_retired: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    parent: Mapped[OrgUnit | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[OrgUnit]] = relationship(back_populates="parent", order_by="OrgUnit.name")

    __audit_type__ = "org_unit"

    @property
    def audit_ref(self) -> str:
        return self.code

    @property
    def path_ids(self) -> list[int]:
        """The ids from the top of the tree down to this unit, read from its path."""
        return [int(x) for x in self.path.strip("/").split("/") if x]

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def __repr__(self) -> str:
        return f"<OrgUnit {self.code}>"


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120), default="")
    role: Mapped[str] = mapped_column(sa.String(20))
    org_unit_id: Mapped[int] = mapped_column(sa.ForeignKey("org_units.id"), index=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    # The TOTP seed, sealed under the master key (app.crypto.account_secrets); read and set
    # through `mfa_secret`.
    mfa_secret_enc: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    mfa_enrolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Last TOTP time-step accepted: a code is refused at or before it (no replay).
    mfa_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    password_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Role partner only: the partner organization (HSDS UUID) whose referrals this user sees.
    partner_organization_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.Uuid, sa.ForeignKey("partner_organizations.id"), nullable=True, index=True
    )

    org_unit: Mapped[OrgUnit] = relationship()

    __audit_type__ = "user"

    # Flask-Login stores get_id() in the cookie: we give it the server-side session token,
    # so that ending the session row ends the sign-in (see app/auth/sessions.py).
    session_token = None  # transient, set by the session loader

    @property
    def audit_ref(self) -> str:
        return self.username

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.is_enabled

    @property
    def mfa_secret(self) -> str | None:
        """The TOTP seed in clear, unsealed on each read (a saved user only)."""
        if self.mfa_secret_enc is None:
            return None
        return account_secrets.unseal("users", "mfa_secret", self.id, self.mfa_secret_enc)

    @mfa_secret.setter
    def mfa_secret(self, secret: str | None) -> None:
        self.mfa_secret_enc = (
            None if secret is None else account_secrets.seal("users", "mfa_secret", self.id, secret)
        )

    def get_id(self) -> str | None:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role}>"


# `keys rotate` re-seals, and `keys retire` counts, the TOTP seeds with every sealed column.
account_secrets.register_sealed_column(User.__table__, "mfa_secret_enc", "mfa_secret")
