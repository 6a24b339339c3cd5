"""All-or-nothing import of org units: every line checked before anything is written."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import gettext as _

from app.audit import services as audit
from app.extensions import db
from app.orgs import permissions
from app.orgs.models import OrgLevel, OrgUnit
from app.orgs.services.common import require
from app.orgs.services.org_units import (
    code_problem,
    level_problem,
    lock_tree,
    name_problem,
    parent_problem,
    second_central_problem,
)
from app.permissions import Actor


@dataclass(frozen=True)
class ImportRow:
    line: int
    code: str
    name: str
    level: str
    parent_code: str


@dataclass(frozen=True)
class LineError:
    line: int
    message: str


class ImportRefused(Exception):
    """At least one line is wrong: nothing was imported."""

    def __init__(self, errors: list[LineError]):
        super().__init__(f"{len(errors)} line(s) refused")
        self.errors = errors


def check_import(rows: Sequence[ImportRow], tick: Callable[[int], None] | None = None):
    """Every problem of every line (parents may be earlier in the file or in the database)."""
    existing = {
        code: (level, retired)
        for code, level, retired in db.session.execute(
            sa.select(OrgUnit.code, OrgUnit.level, OrgUnit.is_retired)
        )
    }
    later = {row.code: row.line for row in reversed(rows)}
    seen: dict[str, ImportRow] = {}
    errors: list[LineError] = []
    # The one central unit: in the database, else the first central line of the file.
    central = next((c for c, (level, _r) in existing.items() if level == OrgLevel.CENTRAL), None)
    for row in rows:
        errors.extend(LineError(row.line, p) for p in _row_problems(row, existing, seen, later))
        if row.level == OrgLevel.CENTRAL and row.code != central:
            if problem := second_central_problem(central):
                errors.append(LineError(row.line, problem))
            central = central or row.code
        if row.code and row.code not in seen:
            seen[row.code] = row
        if tick:
            tick(1)
    return errors


def _row_problems(row: ImportRow, existing, seen, later) -> list[str]:
    problems = [
        p for p in (code_problem(row.code), name_problem(row.name), level_problem(row.level)) if p
    ]
    if row.code in seen:
        problems.append(
            _("Mã %(code)s trùng với dòng %(line)d.", code=row.code, line=seen[row.code].line)
        )
    elif row.code in existing:
        problems.append(_("Mã %(code)s đã có trong hệ thống.", code=row.code))
    parent_level, parent_retired = None, False
    if row.parent_code:
        if row.parent_code in seen:
            parent_level = seen[row.parent_code].level
        elif row.parent_code in existing:
            parent_level, parent_retired = existing[row.parent_code]
        elif row.parent_code in later and row.parent_code != row.code:
            problems.append(
                _(
                    "Đơn vị cấp trên %(code)s nằm ở dòng %(line)d, phải đứng trước dòng này.",
                    code=row.parent_code,
                    line=later[row.parent_code],
                )
            )
            return problems
        else:
            problems.append(
                _("Không tìm thấy đơn vị cấp trên có mã %(code)s.", code=row.parent_code)
            )
            return problems
    if not level_problem(row.level) and (parent_level is None or not level_problem(parent_level)):
        problem = parent_problem(row.level, parent_level, parent_retired)
        if problem:
            problems.append(problem)
    return problems


def import_org_units(
    actor: Actor,
    rows: Sequence[ImportRow],
    *,
    via: str = "csv",
    tick: Callable[[int], None] | None = None,
) -> int:
    """All or nothing: every line is checked first; any error imports nothing."""
    require(permissions.can_manage_org_units, actor)
    lock_tree()
    errors = check_import(rows, tick)
    if errors:
        raise ImportRefused(errors)
    # code -> (id, path) of every possible parent: in the database, then as rows are inserted.
    known = {
        code: (unit_id, path)
        for code, unit_id, path in db.session.execute(
            sa.select(OrgUnit.code, OrgUnit.id, OrgUnit.path).where(
                OrgUnit.code.in_({r.parent_code for r in rows if r.parent_code})
            )
        )
    }
    # Insert generation by generation (a row's parent is in the database or in an earlier
    # generation), so each generation is one batched INSERT instead of one per row.
    generation: dict[str, int] = {}
    batches: list[list[ImportRow]] = []
    for row in rows:
        depth = generation.get(row.parent_code, -1) + 1 if row.parent_code else 0
        generation[row.code] = depth
        if depth == len(batches):
            batches.append([])
        batches[depth].append(row)
    created: list[OrgUnit] = []
    for batch in batches:
        units = [
            OrgUnit(
                code=r.code,
                name=r.name,
                level=r.level,
                path="",
                parent_id=known[r.parent_code][0] if r.parent_code else None,
            )
            for r in batch
        ]
        db.session.add_all(units)
        db.session.flush()
        for row, unit in zip(batch, units, strict=True):
            parent_path = known[row.parent_code][1] if row.parent_code else "/"
            unit.path = f"{parent_path}{unit.id}/"
            known[row.code] = (unit.id, unit.path)
            if tick:
                tick(1)
        created.extend(units)
    db.session.flush()
    audit.record(
        actor, "org.imported", object_type="org_unit", details={"count": len(created), "via": via}
    )
    return len(created)
