"""Imports that never hold the database for long, and still bring in all their rows or none.

A 20,000-row file written in one transaction held SQLite's write lock for 17 minutes: every
other request, /health included, waited and failed. So an import is split into short steps:

1. stage: the file is read within its bounds (app.imports.bounds) and each row, sealed with a
   data key of the run and bound to its row number, goes to `import_staged_rows`, a batch per
   transaction. Nothing identifying is in clear there either.
2. validate: every row is checked; any error ends the run as refused, with every error by row
   number, and nothing published.
3. publish: batches of rows become the module's objects, each batch its own short transaction
   that also records which staged row became which object.
4. finish: one short transaction writes the audit event (counts only), marks the run done and
   drops the staged rows and their key.

If publishing stops — an error, or a killed process that `recover` finds stale — the published
objects are withdrawn batch by batch (`compensate`): the import ends with all its rows or none.
Between the batches the job pauses on SQLite a little longer than SQLite's busy handler sleeps,
so a request waiting for the write lock gets it before the next batch does.

Each module declares its import as an `ImportKind` (how to check, publish and withdraw a batch)
and calls `stage` then `start`; small runs finish inside the request, larger ones run as a job
with a progress page (app/imports/routes.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from app import jobs
from app.audit import services as audit
from app.crypto.envelope import create_data_key, destroy_data_key, seal, unseal
from app.db import begin_writing, enter_read_first_scope, leave_read_first_scope, utcnow
from app.extensions import db
from app.imports.bounds import FileRefused, Limits
from app.imports.models import OPEN_STATUSES, ImportRun, RunStatus, StagedRow
from app.orgs.models import OrgUnit, User
from app.permissions import Actor

log = logging.getLogger(__name__)

STAGE_BATCH = 2000
# Errors kept for the page: enough to fix a file, bounded for a file of 20,000 wrong rows.
MAX_ERRORS_KEPT = 300
# A run left open and untouched this long was stopped (a killed worker): recover withdraws it.
STALE_AFTER = timedelta(minutes=10)
# SQLite's busy handler retries a waiting writer at most every 100 ms: a free lock for longer
# than that is seen by every waiter (sqliteDefaultBusyCallback).
LOCK_FREE_SECONDS = 0.11
# How long one batch may hold the locks it writes under (SQLite's database lock; on PostgreSQL
# the audit shard head, which every audited action of the province needs).
WRITE_SECONDS = 0.15
MIN_BATCH = 5
_TABLE, _COLUMN = "import_staged_rows", "payload_enc"

Row = tuple[int, dict]  # (row number in the file, the row's values)


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


@dataclass(frozen=True)
class ImportKind:
    """One module's import: `check` returns the errors of a batch (nothing written); `prepare`
    does a batch's work that needs no writing (outside SQLite's write lock); `publish` writes
    the prepared batch and returns the new objects' ids in row order; `withdraw` removes them."""

    name: str
    limits: Limits
    check: Callable[[Actor, ImportRun, list[Row]], list[RowError]]
    prepare: Callable[[Actor, ImportRun, list[Row]], Any]
    publish: Callable[[Actor, ImportRun, Any], list[int]]
    withdraw: Callable[[Actor, ImportRun, list[int]], None]
    audit_action: str
    done_endpoint: str
    batch: int = 200
    # At most this many rows are imported inside the request; more run as a background job.
    sync_rows: int = 200


_KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    _KINDS[kind.name] = kind
    return kind


def kind_of(run: ImportRun) -> ImportKind:
    return _KINDS[run.kind]


# --- stage ------------------------------------------------------------------------------------


def stage(
    actor: Actor, kind: ImportKind, org_unit: OrgUnit | None, rows: Sequence[Row], via: str
) -> ImportRun:
    """Write the rows, sealed, to the staging table in short transactions (commits)."""
    if not rows:
        raise FileRefused(_("Tệp không có dòng dữ liệu nào."))
    run = ImportRun(
        kind=kind.name,
        status=RunStatus.STAGING,
        via=via,
        org_unit_id=org_unit.id if org_unit else None,
        user_id=actor.user_id,
        actor_name=None if actor.user_id else actor.username,
        data_key=create_data_key(),
    )
    db.session.add(run)
    db.session.commit()
    total = 0
    for batch in _chunks(rows, STAGE_BATCH):
        db.session.execute(
            sa.insert(StagedRow),
            [
                {
                    "run_id": run.id,
                    "row_number": number,
                    "payload_enc": _seal(run, number, values),
                }
                for number, values in batch
            ],
        )
        total += len(batch)
        run.rows_total = total
        run.updated_at = utcnow()
        db.session.commit()
        _leave_the_lock(time.monotonic())
    run.status = RunStatus.QUEUED
    db.session.commit()
    return run


def start(run: ImportRun, *, background: bool = True) -> ImportRun:
    """Finish a small run now (or any run, for the command line, which waits for it); hand a
    larger one to the job engine (its page shows progress)."""
    if not background or run.rows_total <= kind_of(run).sync_rows:
        run_import(run.id)
    else:
        jobs.enqueue("app.imports.tasks:run_import", run.id, job_id=f"import-{run.id}")
        db.session.commit()
    db.session.expire(run)
    return run


def _seal(run: ImportRun, number: int, values: dict) -> bytes:
    payload = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return seal(run.data_key, payload, table=_TABLE, column=_COLUMN, row_id=number)


def _unseal(run: ImportRun, staged: StagedRow) -> Row:
    payload = unseal(
        run.data_key, staged.payload_enc, table=_TABLE, column=_COLUMN, row_id=staged.row_number
    )
    return staged.row_number, json.loads(payload)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _unpublished(run: ImportRun, size: int) -> list[StagedRow]:
    """The next batch of the run's rows not yet published, in row order."""
    return list(
        db.session.execute(
            sa.select(StagedRow)
            .where(StagedRow.run_id == run.id, StagedRow.published_id.is_(None))
            .order_by(StagedRow.row_number)
            .limit(size)
        ).scalars()
    )


# --- validate, publish, finish ----------------------------------------------------------------


def run_import(run_id: int) -> str | None:
    """The job: validate every row, publish in batches, finish; withdraw if publishing fails.
    Returns the run's final status; does nothing for a run another worker already took."""
    run = _claim(run_id)
    if run is None:
        return None
    kind, actor = kind_of(run), _actor_of(run)
    with force_locale("vi"):
        try:
            errors = _validate(run, kind, actor)
            if errors:
                _close(run, RunStatus.REFUSED, errors)
                db.session.commit()
                return run.status
            _publish(run, kind, actor)
            _finish(run, kind, actor)
        except Exception:
            db.session.rollback()
            log.exception("import run %s stopped while %s", run_id, run.status)
            compensate(run_id)
        return run.status


def _claim(run_id: int) -> ImportRun | None:
    claimed = db.session.execute(
        sa.update(ImportRun)
        .where(ImportRun.id == run_id, ImportRun.status == RunStatus.QUEUED)
        .values(status=RunStatus.VALIDATING, updated_at=utcnow())
    ).rowcount
    db.session.commit()
    return db.session.get(ImportRun, run_id) if claimed else None


def _actor_of(run: ImportRun) -> Actor:
    if run.user_id is None:
        return Actor.system(run.actor_name or "import")
    return Actor.from_user(db.session.get(User, run.user_id))


def _validate(run: ImportRun, kind: ImportKind, actor: Actor) -> list[RowError]:
    """Check every row. Each batch is read and checked in a read snapshot (no write lock on
    SQLite; app/db.py) and only its progress is written, under the lock for a moment."""
    errors: list[RowError] = []
    after = -1
    scope = enter_read_first_scope()
    try:
        while staged := list(
            db.session.execute(
                sa.select(StagedRow)
                .where(StagedRow.run_id == run.id, StagedRow.row_number > after)
                .order_by(StagedRow.row_number)
                .limit(kind.batch * 4)
            ).scalars()
        ):
            after = staged[-1].row_number
            rows = [_unseal(run, s) for s in staged]
            errors += kind.check(actor, run, rows)
            begin_writing(db.session)
            run.rows_validated += len(rows)
            run.error_count = len(errors)
            run.updated_at = utcnow()
            db.session.commit()
        db.session.rollback()
    finally:
        leave_read_first_scope(scope)
    return errors


def _publish(run: ImportRun, kind: ImportKind, actor: Actor) -> None:
    """Each batch is read and prepared in a read snapshot, then written under the write lock
    and committed; the lock then stays free for a moment (`_leave_the_lock`). The batch size
    follows how long writing took, so that a write holds its locks about WRITE_SECONDS, however
    loaded the machine or slow the database."""
    run.status = RunStatus.PUBLISHING
    db.session.commit()
    released, size = time.monotonic(), kind.batch
    scope = enter_read_first_scope()
    try:
        while staged := _unpublished(run, size):
            prepared = kind.prepare(actor, run, [_unseal(run, s) for s in staged])
            _leave_the_lock(released)
            writing = time.monotonic()
            begin_writing(db.session)
            ids = kind.publish(actor, run, prepared)
            for row, new_id in zip(staged, ids, strict=True):
                row.published_id = new_id or 0  # 0: published, nothing new to withdraw
            run.rows_published += len(staged)
            run.rows_created += sum(1 for i in ids if i)
            run.updated_at = utcnow()
            db.session.commit()
            released = time.monotonic()
            size = _next_size(size, released - writing, kind.batch)
        db.session.rollback()
    finally:
        leave_read_first_scope(scope)


def _next_size(size: int, took: float, largest: int) -> int:
    wanted = size * WRITE_SECONDS / max(took, 0.001)
    return min(largest, max(MIN_BATCH, int((size + wanted) / 2)))


def _finish(run: ImportRun, kind: ImportKind, actor: Actor) -> None:
    audit.record(
        actor,
        kind.audit_action,
        object_type="org_unit" if run.org_unit else "import",
        object_ref=run.org_unit.code if run.org_unit else str(run.id),
        org_unit_id=run.org_unit_id,
        details={"count": run.rows_created, "rows": run.rows_total, "via": run.via},
    )
    _close(run, RunStatus.DONE, [])
    db.session.commit()


def _close(run: ImportRun, status: RunStatus, errors: list[RowError]) -> None:
    """End the run: its staged rows and their key are gone, its counts and errors stay."""
    db.session.execute(sa.delete(StagedRow).where(StagedRow.run_id == run.id))
    if run.data_key is not None and run.data_key.wrapped_key is not None:
        destroy_data_key(run.data_key)
    run.status = status
    run.error_count = max(run.error_count, len(errors))
    run.errors = [[e.row, str(e.message)] for e in errors[:MAX_ERRORS_KEPT]]
    run.finished_at = run.updated_at = utcnow()


def _leave_the_lock(released: float) -> None:
    """Keep SQLite's write lock free for LOCK_FREE_SECONDS after a batch committed at
    `released`, so that a request waiting for it takes it before the next batch does."""
    if db.session.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL locks rows, not the database
    rest = current_app.config.get("IMPORT_LOCK_FREE_SECONDS", LOCK_FREE_SECONDS)
    rest -= time.monotonic() - released
    if rest > 0:
        time.sleep(rest)


# --- withdraw ---------------------------------------------------------------------------------


def compensate(run_id: int) -> None:
    """Withdraw everything the run published, a batch per transaction, then close it as failed
    with one audit event (counts only). Safe to repeat after a crash in the middle; each batch
    locks the run first, so two recoveries never withdraw the same rows."""
    run = _locked_open_run(run_id)
    if run is None:
        return
    kind, actor = kind_of(run), _actor_of(run)
    withdrawn = 0
    while run is not None:
        staged = list(
            db.session.execute(
                sa.select(StagedRow)
                .where(StagedRow.run_id == run.id, StagedRow.published_id.is_not(None))
                .order_by(StagedRow.row_number)
                .limit(kind.batch)
            ).scalars()
        )
        if not staged:
            break
        created = [s.published_id for s in staged if s.published_id]
        if created:
            kind.withdraw(actor, run, created)
        for row in staged:
            row.published_id = None
        run.rows_published = max(0, run.rows_published - len(staged))
        run.rows_created = max(0, run.rows_created - len(created))
        run.updated_at = utcnow()
        withdrawn += len(created)
        db.session.commit()
        _leave_the_lock(time.monotonic())
        run = _locked_open_run(run_id)
    if run is None:
        db.session.rollback()
        return  # another recovery closed it meanwhile
    if withdrawn:
        audit.record(
            actor,
            kind.audit_action,
            object_type="org_unit" if run.org_unit else "import",
            object_ref=run.org_unit.code if run.org_unit else str(run.id),
            org_unit_id=run.org_unit_id,
            outcome="error",
            details={"count": withdrawn, "rows": run.rows_total, "via": run.via},
        )
    _close(
        run,
        RunStatus.FAILED,
        [
            RowError(
                0, _("Việc nhập bị dừng giữa chừng; không có dòng nào được nhập. Hãy nhập lại.")
            )
        ],
    )
    db.session.commit()


def _locked_open_run(run_id: int) -> ImportRun | None:
    """The run, locked until this transaction ends (PostgreSQL; SQLite's transactions hold the
    database lock already), if it is still open."""
    run = db.session.execute(
        sa.select(ImportRun)
        .where(ImportRun.id == run_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    return run if run is not None and run.is_open else None


def recover(now=None) -> int:
    """The periodic job: withdraw the runs a killed process left open. Returns how many."""
    cutoff = (now or utcnow()) - STALE_AFTER
    stale = list(
        db.session.execute(
            sa.select(ImportRun.id).where(
                ImportRun.status.in_(list(OPEN_STATUSES)), ImportRun.updated_at < cutoff
            )
        ).scalars()
    )
    for run_id in stale:
        with force_locale("vi"):
            compensate(run_id)
    return len(stale)


# --- reading ----------------------------------------------------------------------------------


def run_for(actor: Actor, run_id: int) -> ImportRun | None:
    """The run if this actor started it; anyone else's is None (the page answers 404)."""
    run = db.session.get(ImportRun, run_id)
    if run is None or actor.user_id is None or run.user_id != actor.user_id:
        return None
    return run
