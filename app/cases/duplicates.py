"""Duplicate warning at intake: matches by name + birth year, phone or ID number through the
blind indexes; codes only for cases in the actor's scope."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from app.cases.codes import birth_year_of, parse_birth
from app.cases.errors import CaseError
from app.cases.fields import index_or_none, read_field
from app.cases.models import Case
from app.crypto.blind_index import id_number_index, name_indexes, phone_index
from app.extensions import db
from app.permissions import Actor

# --- duplicates -----------------------------------------------------------------------------


@dataclass
class DuplicateCheck:
    in_scope: list[str]
    elsewhere: bool

    @property
    def found(self) -> bool:
        return bool(self.in_scope) or self.elsewhere


def find_duplicates(
    actor: Actor,
    full_name: str | None,
    date_of_birth: str | None,
    phone: str | None,
    id_number: str | None,
) -> DuplicateCheck:
    """Cases matching name + birth year, phone or ID number; codes only for those in scope."""
    from app.cases.queries import visible_cases

    conditions = []
    if phone and re.search(r"\d", phone):
        conditions.append(Case.phone_index == phone_index(phone))
    if id_number and re.search(r"[0-9A-Za-z]", id_number):
        conditions.append(Case.id_number_index == id_number_index(id_number))
    year = None
    try:
        year = parse_birth(date_of_birth)[1]
    except CaseError:
        year = None
    name_cond = None
    if full_name and full_name.strip() and year is not None:
        name_cond = Case.name_folded_index == name_indexes(full_name)[1]
        conditions.append(name_cond)
    if not conditions:
        return DuplicateCheck([], False)
    stmt = sa.select(Case).where(Case.erased_at.is_(None), sa.or_(*conditions)).limit(50)
    matches = []
    for case in db.session.execute(stmt).scalars():
        strong = (phone and case.phone_index == index_or_none(phone_index, phone)) or (
            id_number and case.id_number_index == index_or_none(id_number_index, id_number)
        )
        if strong or birth_year_of(read_field(case, "date_of_birth")) == year:
            matches.append(case)
    if not matches:
        return DuplicateCheck([], False)
    visible = set(
        db.session.execute(
            visible_cases(actor)
            .with_only_columns(Case.id)
            .where(Case.id.in_([c.id for c in matches]))
        ).scalars()
    )
    in_scope = sorted(c.code for c in matches if c.id in visible)
    return DuplicateCheck(in_scope, any(c.id not in visible for c in matches))
