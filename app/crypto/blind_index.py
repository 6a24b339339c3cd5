"""Blind indexes: exact-match search over encrypted fields without decrypting them.

Each index is HMAC-SHA256 under the key set's own index key (never a master key, so it survives
master-key rotation), over a normalized value, domain-separated by a prefix ("name:", "phone:")
so that equal strings in different fields give different indexes. Names get two indexes: the
exact one (diacritics kept) and a folded one (diacritics removed, đ -> d), so that "Nguyen Thi
Hoa" finds "Nguyễn Thị Hoa". Never index health or violence fields.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from app.crypto.keyring import keyring

_NON_DIGITS = re.compile(r"\D")
_NON_ALNUM = re.compile(r"[^0-9A-Z]")


def normalize(value: str) -> str:
    """NFC, casefolded, whitespace collapsed to single spaces and stripped."""
    text = unicodedata.normalize("NFC", value).casefold()
    # casefold can decompose (e.g. "İ"), so compose again after it.
    return " ".join(unicodedata.normalize("NFC", text).split())


def fold_diacritics(value: str) -> str:
    """`normalize` without combining marks; đ becomes d (it is a letter, not a mark)."""
    decomposed = unicodedata.normalize("NFD", normalize(value))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return unicodedata.normalize("NFC", bare.replace("đ", "d"))


def _index(domain: str, value: str) -> str:
    if not value:
        raise ValueError(f"nothing to index for {domain}: the normalized value is empty")
    message = f"{domain}:{value}".encode()
    return hmac.new(keyring().index_key, message, hashlib.sha256).hexdigest()


def name_indexes(full_name: str) -> tuple[str, str]:
    """(exact index over normalize(), folded index over fold_diacritics())."""
    return _index("name", normalize(full_name)), _index("name_folded", fold_diacritics(full_name))


def name_search_index(query: str) -> tuple[str, str]:
    """("exact", index) when the query carries any diacritic, else ("folded", index)."""
    if normalize(query) != fold_diacritics(query):
        return "exact", _index("name", normalize(query))
    return "folded", _index("name_folded", fold_diacritics(query))


def normalize_phone(phone: str) -> str:
    """Digits only; the country code (+84, 84, 0084) becomes the leading 0."""
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", phone))
    for prefix in ("0084", "84"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 7:
            return "0" + digits[len(prefix) :]
    return digits


def phone_index(phone: str) -> str:
    return _index("phone", normalize_phone(phone))


def normalize_id_number(value: str) -> str:
    """Uppercase ASCII letters and digits only (spaces, dots and dashes dropped)."""
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", value).upper())


def id_number_index(value: str) -> str:
    return _index("id_number", normalize_id_number(value))
