"""Blind indexes: search over encrypted fields without decrypting every row.

Each searchable value of a case becomes one *search token* per whole word of a name (full name,
other names), one for the phone number and one for the ID number. A token carries two keyed
MACs under the key set's own index key (never a master key, so it survives master-key rotation):

- a **tag**: HMAC-SHA256 over (kind, normalized value), *truncated* to a few bits
  (`TAG_BITS`) and independent of the row. Search looks candidates up by tag. Truncation is
  the approach of CipherSweet: many different values share each tag, so counting the rows of a
  tag never gives the exact frequency of a name, and a tag alone never confirms that a given
  name is in the database. Name words get 8 bits (256 tags: in Vietnamese names a few hundred
  words make almost every name, so each tag mixes several of them); phone and ID numbers, nearly
  all distinct, get 12 bits (at 100,000 cases about 25 cases share a tag).
- a **proof**: HMAC-SHA256 over (table, column, row id, normalized value), bound to its row and
  its column. Candidates are kept only when their stored proof is the one recomputed for *their
  own* row, so a token copied or swapped to another row or column never matches (issue #16.4).
  Name words carry two proofs: over the word without diacritics (đ -> d) and over the word as
  written, so "Hoa" finds "Hoà" and "Hòa" while "Hòa" finds only "Hòa".

Never index health or violence fields. The functions here are pure (the key is passed in), so
the migration that rebuilt the indexes uses them as the application does.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from dataclasses import dataclass

NAME = "name"
PHONE = "phone"
ID_NUMBER = "id_number"
# The encrypted case columns that are indexed, and the kind of token each gives.
INDEXED_FIELDS = {"full_name": NAME, "other_names": NAME, "phone": PHONE, "id_number": ID_NUMBER}
TAG_BITS = {NAME: 8, PHONE: 12, ID_NUMBER: 12}
PROOF_BYTES = 16
FORMAT = 1

_NON_DIGITS = re.compile(r"\D")
_NON_ALNUM = re.compile(r"[^0-9A-Z]")
_WORD = re.compile(r"\w+")


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


def name_words(value: str) -> list[tuple[str, str]]:
    """The whole words of a name, each as (as written, without diacritics), normalized, in
    order, without repeats."""
    words = dict.fromkeys(_WORD.findall(normalize(value)))
    return [(w, fold_diacritics(w)) for w in words]


def has_diacritics(word: str) -> bool:
    return normalize(word) != fold_diacritics(word)


def normalize_phone(phone: str) -> str:
    """Digits only; the country code (+84, 84, 0084) becomes the leading 0."""
    digits = _NON_DIGITS.sub("", unicodedata.normalize("NFKC", phone))
    for prefix in ("0084", "84"):
        if digits.startswith(prefix) and len(digits) > len(prefix) + 7:
            return "0" + digits[len(prefix) :]
    return digits


def normalize_id_number(value: str) -> str:
    """Uppercase ASCII letters and digits only (spaces, dots and dashes dropped)."""
    return _NON_ALNUM.sub("", unicodedata.normalize("NFKC", value).upper())


def _encode(*parts: str | int) -> bytes:
    """Unambiguous bytes: each part length-prefixed, so no two tuples give the same message."""
    out = bytearray()
    for part in parts:
        raw = str(part).encode("utf-8")
        out += len(raw).to_bytes(4, "big") + raw
    return bytes(out)


def _mac(key: bytes, message: bytes) -> bytes:
    return hmac.new(key, message, hashlib.sha256).digest()


def tag(key: bytes, kind: str, value: str) -> int:
    """The row-independent lookup tag of a normalized value, truncated to TAG_BITS[kind]."""
    digest = _mac(key, _encode("caunoi-search-tag", FORMAT, kind, value))
    return int.from_bytes(digest[:4], "big") >> (32 - TAG_BITS[kind])


def proof(key: bytes, field: str, row_id: int, value: str, *, exact: bool = False) -> bytes:
    """The row- and column-bound proof that `value` (normalized) is in this row's field."""
    variant = "exact" if exact else "folded"
    message = _encode("caunoi-search-proof", FORMAT, "cases", field, row_id, variant, value)
    return _mac(key, message)[:PROOF_BYTES]


@dataclass(frozen=True)
class Token:
    """One search token of one field of one row, as stored."""

    field: str
    kind: str
    tag: int
    proof: bytes
    proof_exact: bytes | None = None


def field_values(field: str, value: str | None) -> list[tuple[str, str | None]]:
    """What a field contributes to the index: (value matched without diacritics, value as
    written or None). Empty when there is nothing to index."""
    if not value:
        return []
    kind = INDEXED_FIELDS[field]
    if kind == NAME:
        return [(folded, exact) for exact, folded in name_words(value)]
    normalized = normalize_phone(value) if kind == PHONE else normalize_id_number(value)
    return [(normalized, None)] if normalized else []


def tokens_for(key: bytes, field: str, row_id: int, value: str | None) -> list[Token]:
    """The search tokens of one field of one row."""
    kind = INDEXED_FIELDS[field]
    return [
        Token(
            field=field,
            kind=kind,
            tag=tag(key, kind, folded),
            proof=proof(key, field, row_id, folded),
            proof_exact=proof(key, field, row_id, exact, exact=True) if exact else None,
        )
        for folded, exact in field_values(field, value)
    ]


@dataclass(frozen=True)
class Probe:
    """One thing to look for: a kind, the tag to look up, and how to check a candidate."""

    kind: str
    tag: int
    value: str
    exact: bool  # check the proof over the value as written (the query had diacritics)

    def proves(self, key: bytes, row_id: int, token) -> bool:
        """Whether a stored token (field, tag, proof, proof_exact) of row `row_id` holds the
        value: its proof must be the one computed for this very row and column."""
        if token.tag != self.tag or INDEXED_FIELDS.get(token.field) != self.kind:
            return False
        stored = token.proof_exact if self.exact else token.proof
        if stored is None:
            return False
        expected = proof(key, token.field, row_id, self.value, exact=self.exact)
        return hmac.compare_digest(expected, bytes(stored))


def name_probes(key: bytes, query: str, max_words: int = 8) -> list[Probe]:
    """One probe per whole word of the query (all must match); a word typed with diacritics
    matches only as written, one typed without matches with or without them."""
    probes = []
    for exact, folded in name_words(query)[:max_words]:
        marked = exact != folded
        probes.append(Probe(NAME, tag(key, NAME, folded), exact if marked else folded, marked))
    return probes


def value_probe(key: bytes, kind: str, query: str) -> Probe | None:
    """A probe for a whole phone or ID number, or None when the query normalizes to nothing."""
    value = normalize_phone(query) if kind == PHONE else normalize_id_number(query)
    return Probe(kind, tag(key, kind, value), value, False) if value else None
