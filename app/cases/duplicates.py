"""Duplicate warning at intake: matches by name + birth year, phone or ID number through the
blind indexes; codes only for cases in the actor's scope."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from app.cases.codes import birth_year_of, parse_birth
from app.cases.errors import CaseError
from app.cases.fields import read_field
from app.cases.models import Case
from app.cases.search import find_case_ids
from app.crypto import blind_index as bi
from app.crypto.keyring import keyring
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
    """Cases matching name + birth year, phone or ID number; codes only for those in scope.

    Candidates come from the search tokens of every case (unscoped: a duplicate elsewhere is
    reported without its code); a name match is confirmed on the decrypted name and birth year.
    """
    from app.cases.queries import visible_cases

    key = keyring().index_key
    strong_groups = []
    if phone and re.search(r"\d", phone):
        strong_groups.append([bi.value_probe(key, bi.PHONE, phone)])
    if id_number and re.search(r"[0-9A-Za-z]", id_number):
        strong_groups.append([bi.value_probe(key, bi.ID_NUMBER, id_number)])
    strong_groups = [g for g in strong_groups if g[0] is not None]
    year = None
    try:
        year = parse_birth(date_of_birth)[1]
    except CaseError:
        year = None
    strong = set(find_case_ids(strong_groups, limit=50)) if strong_groups else set()
    by_name: set[int] = set()
    if full_name and full_name.strip() and year is not None:
        by_name = set(find_case_ids([bi.name_probes(key, bi.fold_diacritics(full_name))], limit=50))
    if not (strong or by_name):
        return DuplicateCheck([], False)
    wanted = bi.fold_diacritics(full_name or "")
    matches = []
    for case in db.session.execute(
        sa.select(Case).where(Case.id.in_(strong | by_name), Case.erased_at.is_(None))
    ).scalars():
        if case.id in strong or (
            bi.fold_diacritics(read_field(case, "full_name") or "") == wanted
            and birth_year_of(read_field(case, "date_of_birth")) == year
        ):
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
