"""The Excel import of outreach activities as an import run (app.imports): read within LIMITS,
staged, every row checked, then published in short batches, all rows or none.

A row already imported from the same file (its idempotency key binds file and row) is counted
as present and not written again, so importing a file twice adds nothing.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _

from app.extensions import db
from app.imports import services as imports
from app.imports.models import ImportRun
from app.orgs.models import OrgUnit
from app.outreach import permissions, queries
from app.outreach.importer import LIMITS, digest, read_rows
from app.outreach.models import OutreachActivity
from app.outreach.services import Entry, ImportRow, check_entry, create_activity
from app.permissions import Actor, PermissionDenied


def _payload(row: ImportRow, file_digest: str) -> dict:
    entry = asdict(row.entry)
    entry["held_on"] = row.entry.held_on.isoformat() if row.entry.held_on else None
    return {
        "commune_code": row.commune_code,
        "entry": entry,
        "errors": row.errors,
        "key": f"xlsx-{file_digest[:40]}-{row.row}",
    }


def _row(number: int, payload: dict) -> tuple[ImportRow, str]:
    entry = dict(payload["entry"])
    entry["held_on"] = date.fromisoformat(entry["held_on"]) if entry["held_on"] else None
    row = ImportRow(number, payload["commune_code"], Entry(**entry), list(payload["errors"]))
    return row, payload["key"]


def _communes(run: ImportRun) -> dict[str, OrgUnit]:
    root = run.org_unit
    return {u.code: u for u in db.session.execute(queries.communes_under(root.path)).scalars()}


def check_rows(actor: Actor, run: ImportRun, rows: list[tuple[int, dict]]) -> list:
    """Every error of these rows, by row number; writes nothing."""
    communes = _communes(run)
    errors = []
    for number, payload in rows:
        row, _key = _row(number, payload)
        errors += [imports.RowError(number, message) for message in row.errors]
        unit = communes.get(row.commune_code)
        if unit is None:
            errors.append(imports.RowError(number, _("Mã xã/phường không thuộc đơn vị đã chọn.")))
        else:
            row.entry.org_unit_id = unit.id
        errors += [imports.RowError(number, m) for m in check_entry(actor, row.entry).values()]
    return errors


def _prepare(actor: Actor, run: ImportRun, rows: list[tuple[int, dict]]) -> list:
    communes = _communes(run)
    prepared = []
    for number, payload in rows:
        row, key = _row(number, payload)
        row.entry.org_unit_id = communes[row.commune_code].id
        prepared.append((row, key))
    return prepared


def _publish(actor: Actor, run: ImportRun, prepared: list) -> list[int]:
    """The new activities' ids; 0 for a row this file already imported."""
    ids = []
    for row, key in prepared:
        if queries.find_by_key(key) is not None:
            ids.append(0)
            continue
        activity, _created = create_activity(actor, row.entry, key, via="import")
        ids.append(activity.id)
    return ids


def _withdraw(actor: Actor, run: ImportRun, ids: list[int]) -> None:
    for activity in db.session.execute(
        sa.select(OutreachActivity).where(OutreachActivity.id.in_(ids))
    ).scalars():
        db.session.delete(activity)
    db.session.flush()


IMPORT = imports.register(
    imports.ImportKind(
        name="outreach",
        limits=LIMITS,
        check=check_rows,
        prepare=_prepare,
        publish=_publish,
        withdraw=_withdraw,
        audit_action="outreach.imported",
        done_endpoint="outreach.index",
        batch=100,
    )
)


def import_file(actor: Actor, root: OrgUnit, data: bytes, via: str) -> ImportRun:
    """Read, stage and start an import of activities for the communes under `root`. Raises
    WorkbookError when the file itself is refused (nothing is written then)."""
    if not actor.is_system and not (permissions.can_log(actor) and actor.covers_path(root.path)):
        raise PermissionDenied
    file_digest = digest(data)
    rows = [(r.row, _payload(r, file_digest)) for r in read_rows(data, LIMITS)]
    run = imports.stage(actor, IMPORT, root, rows, via)
    return imports.start(run, background=via == "web")
