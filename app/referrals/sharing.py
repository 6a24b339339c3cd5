"""What a referral shares with the partner, and the partner's view of it (minimization).

A field reaches the partner only when (1) the caseworker chose to share it, (2) its own consent
is in force *now* (checked again at display time), and (3) sharing for the referral's category
is in force and the case is neither restricted nor erased. Otherwise the partner sees only that
the referral was withdrawn. Values are unsealed from the case's data key at display time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.cases import consents
from app.cases.fields import read_field
from app.crypto.envelope import CryptoError, unseal
from app.extensions import db
from app.referrals.models import PartnerClientReference

# field name -> the consent purpose it needs beyond sharing for the category (None: no more).
# The partner's note is not one of them: it is the message to the partner, checked on save to
# hold none of her identifying fields (app/referrals/partner_note.py). The internal note never
# reaches the partner at all.
# The case code is never shared: a partner sees the referral's own reference, and recognises
# her across referrals only through its own client reference, with her consent.
SHAREABLE_FIELDS: dict[str, str | None] = {
    "client_ref": consents.SHARE_IDENTITY,
    "preferred_name": None,
    "phone": consents.CONTACT_PHONE,
    "need": None,
    "health_details": consents.SHARE_HEALTH_DETAILS,
    "hiv_status": consents.SHARE_HIV,
    "violence_details": consents.SHARE_VIOLENCE_DETAILS,
}
FIELD_LABELS = {
    "client_ref": _l("Mã nhận diện tại cơ sở"),
    "preferred_name": _l("Tên thường gọi"),
    "phone": _l("Số điện thoại"),
    "need": _l("Nhu cầu hỗ trợ"),
    "health_details": _l("Thông tin sức khỏe"),
    "hiv_status": _l("Tình trạng HIV"),
    "violence_details": _l("Thông tin về bạo lực đã trải qua"),
}
# Shared unless the caseworker unticks them (phone only with its consent).
DEFAULT_FIELDS = ("client_ref", "preferred_name", "phone", "need")


def field_consent_in_force(case, name: str) -> bool:
    purpose = SHAREABLE_FIELDS[name]
    return purpose is None or consents.consent_in_force(case, purpose)


def allowed_fields(case) -> list[str]:
    """The fields whose own consent is in force for this case."""
    return [name for name in SHAREABLE_FIELDS if field_consent_in_force(case, name)]


def default_fields(case) -> list[str]:
    return [name for name in DEFAULT_FIELDS if field_consent_in_force(case, name)]


def is_withdrawn(referral) -> bool:
    """Sharing has stopped: the partner must see nothing but "withdrawn"."""
    case = referral.case
    return (
        referral.withdrawn_at is not None
        or case.erased_at is not None
        or not consents.can_share(case, referral.category)
    )


@dataclass
class SharedView:
    """What the partner (the slip, the API, the FHIR export) may show of a referral."""

    withdrawn: bool
    values: dict[str, str | None] = field(default_factory=dict)
    note: str | None = None  # the note for the partner; never the internal one

    def labelled(self) -> list[tuple[str, str, str | None]]:
        return [(name, str(FIELD_LABELS[name]), value) for name, value in self.values.items()]


def _unseal_referral(
    referral,
    column: str,
    ciphertext: bytes | None,
    table: str = "referrals",
    row_id: int | None = None,
) -> str | None:
    if ciphertext is None or referral.case.erased_at is not None:
        return None
    try:
        return unseal(
            referral.case.data_key,
            ciphertext,
            table=table,
            column=column,
            row_id=row_id if row_id is not None else referral.id,
        )
    except CryptoError:
        return None


def read_internal_note(referral) -> str | None:
    """The caseworkers' own note: never part of a SharedView."""
    return _unseal_referral(referral, "note_enc", referral.note_enc)


def read_partner_note(referral) -> str | None:
    return _unseal_referral(referral, "partner_note_enc", referral.partner_note_enc)


def read_event_note(referral, event) -> str | None:
    return _unseal_referral(referral, "note_enc", event.note_enc, "referral_events", event.id)


def client_reference(referral) -> str | None:
    """How the referral's partner organization knows her (none if never shared with it)."""
    stmt = sa.select(PartnerClientReference.reference).where(
        PartnerClientReference.case_id == referral.case_id,
        PartnerClientReference.organization_id == referral.organization_id,
    )
    return db.session.execute(stmt).scalar_one_or_none()


def need_summary(referral) -> str:
    from app.categories import category_label

    need = referral.need
    return f"{category_label(need.category)} ({need.identified_on.strftime('%d/%m/%Y')})"


def shared_view(referral) -> SharedView:
    """The shared fields in force now, unsealed; nothing at all once sharing has stopped."""
    if is_withdrawn(referral):
        return SharedView(withdrawn=True)
    case = referral.case
    values: dict[str, str | None] = {}
    for name in SHAREABLE_FIELDS:
        if name not in (referral.shared_fields or []) or not field_consent_in_force(case, name):
            continue
        if name == "client_ref":
            values[name] = client_reference(referral)
        elif name == "need":
            values[name] = need_summary(referral)
        elif name == "hiv_status":
            values[name] = _unseal_referral(referral, "hiv_status_enc", referral.hiv_status_enc)
        else:  # the case's own encrypted field of the same name
            values[name] = read_field(case, name)
    return SharedView(withdrawn=False, values=values, note=read_partner_note(referral))
