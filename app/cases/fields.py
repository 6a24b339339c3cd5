"""Sealing and reading a case's encrypted fields with its own data key."""

from __future__ import annotations

from app.cases.models import ENCRYPTED_FIELDS, Case, CaseNote
from app.crypto.blind_index import (
    id_number_index,
    name_indexes,
    phone_index,
)
from app.crypto.envelope import seal, unseal

ERASED_LABEL = "[đã xoá vĩnh viễn]"


def _column(field: str) -> str:
    if field not in ENCRYPTED_FIELDS:
        raise ValueError(f"not an encrypted case field: {field}")
    return f"{field}_enc"


def set_field(case: Case, field: str, value: str | None) -> None:
    """Seal `value` into the field (the case must have its id and data key)."""
    column = _column(field)
    value = (value or "").strip() or None
    setattr(case, column, seal(case.data_key, value, table="cases", column=column, row_id=case.id))
    if field == "full_name":
        case.name_index, case.name_folded_index = name_indexes(value) if value else (None, None)
    elif field == "phone":
        case.phone_index = index_or_none(phone_index, value)
    elif field == "id_number":
        case.id_number_index = index_or_none(id_number_index, value)


def index_or_none(fn, value: str | None) -> str | None:
    """`fn(value)` (a blind index), or None when there is nothing to index."""
    if not value:
        return None
    try:
        return fn(value)
    except ValueError:  # normalizes to nothing (e.g. a phone without digits)
        return None


def read_field(case: Case, field: str) -> str | None:
    if case.erased_at is not None:
        return None
    column = _column(field)
    return unseal(
        case.data_key, getattr(case, column), table="cases", column=column, row_id=case.id
    )


def read_fields(case: Case, fields=ENCRYPTED_FIELDS) -> dict[str, str | None]:
    return {f: read_field(case, f) for f in fields}


def display_name(case: Case) -> str:
    """The name shown in lists: preferred name in brackets after the full name."""
    if case.erased_at is not None:
        return ERASED_LABEL
    full = read_field(case, "full_name") or ""
    return full


def seal_note(case: Case, note: CaseNote, body: str) -> None:
    note.body_enc = seal(case.data_key, body, table="case_notes", column="body_enc", row_id=note.id)


def read_note(case: Case, note: CaseNote) -> str | None:
    if case.erased_at is not None:
        return None
    return unseal(
        case.data_key, note.body_enc, table="case_notes", column="body_enc", row_id=note.id
    )
