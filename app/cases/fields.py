"""Sealing and reading a case's encrypted fields with its own data key."""

from __future__ import annotations

from app.cases.models import ENCRYPTED_FIELDS, Case, CaseNote
from app.cases.search import index_field
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
    index_field(case, field, value)


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
