"""Birth dates and years, age bands, and case codes (province prefix, year, sequence)."""

from __future__ import annotations

import re
import unicodedata
from datetime import date

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l

from app.cases.errors import CaseError
from app.cases.models import BIRTH_YEAR_BANDS, CaseCodeSequence
from app.extensions import db
from app.orgs.models import OrgUnit
from app.orgs.queries import province_of

# --- birth date / year ------------------------------------------------------------------------

_DATE_RE = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
_YEAR_RE = re.compile(r"^\s*(\d{4})\s*$")


def parse_birth(value: str | None) -> tuple[str | None, int | None, date | None]:
    """'dd/mm/yyyy' or 'yyyy' -> (normalized text, year, date or None). Raises CaseError."""
    if not value or not value.strip():
        return None, None, None
    match = _DATE_RE.match(value)
    if match:
        day, month, year = (int(g) for g in match.groups())
        try:
            born = date(year, month, day)
        except ValueError:
            raise CaseError(_l("Ngày sinh không hợp lệ."), "date_of_birth") from None
        _check_year(born.year)
        return born.isoformat(), born.year, born
    match = _YEAR_RE.match(value)
    if match:
        year = int(match.group(1))
        _check_year(year)
        return str(year), year, None
    raise CaseError(_l("Ghi ngày sinh dạng dd/mm/yyyy hoặc chỉ năm sinh (yyyy)."), "date_of_birth")


def _check_year(year: int) -> None:
    if not 1900 <= year <= date.today().year:
        raise CaseError(_l("Năm sinh không hợp lệ."), "date_of_birth")


def birth_year_of(stored: str | None) -> int | None:
    return int(stored[:4]) if stored and stored[:4].isdigit() else None


def age_on(today: date, year: int | None, born: date | None) -> int | None:
    if born is not None:
        return today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if year is not None:
        # Only the year is known: the age she reaches this year, minus one until proven older.
        return today.year - year - 1
    return None


def birth_year_band(age: int | None) -> str | None:
    if age is None:
        return None
    if age < 18:
        return BIRTH_YEAR_BANDS[0]
    if age <= 24:
        return BIRTH_YEAR_BANDS[1]
    if age <= 34:
        return BIRTH_YEAR_BANDS[2]
    if age <= 44:
        return BIRTH_YEAR_BANDS[3]
    return BIRTH_YEAR_BANDS[4]


# --- case codes -------------------------------------------------------------------------------


def _ascii_initials(name: str) -> str:
    name = re.sub(r"\(.*?\)", " ", name)
    folded = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    bare = "".join(c for c in folded if not unicodedata.combining(c))
    words = [w for w in re.split(r"[^A-Za-z0-9]+", bare) if w]
    stop = {"tinh", "thanh", "pho", "tp"}
    words = [w for w in words if w.lower() not in stop] or words
    return "".join(w[0] for w in words).upper()[:3] or "XX"


def province_prefix(unit: OrgUnit) -> str:
    # The province's prefix, also under a central unit: codes keep their prefix when a
    # province is moved under it.
    province = province_of(unit)
    prefixes = current_app.config.get("CASE_CODE_PREFIXES") or {"37": "NB"}
    return prefixes.get(province.code) or _ascii_initials(province.name)


def allocate_code(unit: OrgUnit, year: int) -> str:
    """Next code for the unit's province and the year, e.g. NB-2026-00042."""
    return allocate_codes(unit, year, 1)[0]


def allocate_codes(unit: OrgUnit, year: int, count: int) -> list[str]:
    """Reserve `count` consecutive codes.

    The UPDATE takes the counter row's write lock (PostgreSQL row lock; SQLite database lock),
    so concurrent intakes never share a number. A missing row is inserted in a savepoint; a
    concurrent insert of the same row loses on the primary key and retries the UPDATE.
    """
    prefix = province_prefix(unit)
    for _attempt in range(3):
        last = db.session.execute(
            sa.update(CaseCodeSequence)
            .where(CaseCodeSequence.prefix == prefix, CaseCodeSequence.year == year)
            .values(last_value=CaseCodeSequence.last_value + count)
            .returning(CaseCodeSequence.last_value)
        ).scalar_one_or_none()
        if last is None:
            try:
                with db.session.begin_nested():
                    db.session.add(CaseCodeSequence(prefix=prefix, year=year, last_value=count))
                last = count
            except sa.exc.IntegrityError:
                continue
        return [f"{prefix}-{year}-{n:05d}" for n in range(last - count + 1, last + 1)]
    raise RuntimeError("could not allocate a case code")
