"""The note for the partner must not carry what she did not consent to share.

A caseworker's free text used to reach the partner whatever was consented: a name or a phone
number typed into it went out with a referral that shared only a code and a need. The partner's
note is therefore checked on save against the case's own identifying fields, decrypted for the
check and never stored or logged: her full name and other names, phone and ID number, and
the case code (partners get the referral's own reference instead). Names are
compared as words, casefolded and without diacritics; numbers by their digits, whatever spaces,
dots or dashes were typed between them. Her preferred name is allowed only when it is shared.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from app.cases.fields import read_field
from app.crypto.blind_index import fold_diacritics as fold

KIND_LABELS = {
    "name": _l("họ tên"),
    "phone": _l("số điện thoại"),
    "id_number": _l("số giấy tờ tùy thân"),
    "code": _l("mã hồ sơ"),
}
# Phone numbers are compared on their last nine digits: 0912 345 678 and +84 912 345 678.
PHONE_DIGITS = 9
_NAME_SPLIT = re.compile(r"[,;/\n]+")
_JOINED = re.compile(r"(?<=[0-9a-z])[\s.\-()]+(?=[0-9a-z])")


def _words(text: str) -> str:
    return " " + " ".join(re.sub(r"[^\w]+", " ", fold(text)).split()) + " "


def _compact(text: str) -> str:
    """Casefolded, separators between letters and digits removed: "B 12.34-5" -> "b12345"."""
    return _JOINED.sub("", fold(text))


def _names(case, shared_fields) -> list[str]:
    names = [read_field(case, "full_name") or ""]
    names += _NAME_SPLIT.split(read_field(case, "other_names") or "")
    if "preferred_name" not in shared_fields:
        names.append(read_field(case, "preferred_name") or "")
    return [n for n in names if len(_words(n).strip()) >= 2]


def identifying_kinds(case, note: str, shared_fields) -> list[str]:
    """Which of her name, phone and ID number the note contains (empty when none)."""
    if case.erased_at is not None or not note.strip():
        return []
    found = []
    words = _words(note)
    if any(_words(name) in words for name in _names(case, shared_fields)):
        found.append("name")
    compact = _compact(note)
    phone = re.sub(r"\D", "", read_field(case, "phone") or "")
    if len(phone) >= 6 and phone[-PHONE_DIGITS:] in compact:
        found.append("phone")
    id_number = _compact(read_field(case, "id_number") or "").replace(" ", "")
    if len(id_number) >= 5 and id_number in compact:
        found.append("id_number")
    # The case code never reaches a partner (they get the referral's own reference).
    if case.code and _compact(case.code) in compact:
        found.append("code")
    return found
