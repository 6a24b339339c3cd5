"""Staged imports (issue 16.1): validate all, publish in batches, all or nothing, a progress
page for the importing user only, and a stopped run withdrawn by compensation."""

from __future__ import annotations

import dataclasses
import io
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app import jobs
from app.audit.models import AuditEvent
from app.cases import importer
from app.cases.fields import read_field
from app.cases.models import Case, CaseSearchToken, Consent, Need
from app.cases.search import find_case_ids, probe_groups
from app.crypto.envelope import DecryptionError, unseal
from app.crypto.models import DataKey
from app.db import utcnow
from app.extensions import db
from app.imports import services
from app.imports.models import ImportRun, RunStatus, StagedRow
from app.reports.models import CaseCount, CaseFigure, RecordKey
from tests.cases.conftest import count_rows
from tests.cases.test_import import _csv, _row
from tests.conftest import sign_in


class Killed(BaseException):
    """The worker process dies: no except clause of ours runs."""


@pytest.fixture
def small_batches(app, monkeypatch):
    """More than two rows go to the background, two rows a batch: several batches, fast."""
    kind = dataclasses.replace(importer.IMPORT, batch=2, sync_rows=2)
    monkeypatch.setitem(services._KINDS, "cases", kind)
    monkeypatch.setitem(app.config, "IMPORT_LOCK_FREE_SECONDS", 0)
    return kind


def _upload(client, world, rows):
    return client.post(
        "/cases/import",
        data={"org_unit_id": world.commune_a.id, "file": (io.BytesIO(_csv(rows)), "ho-so.csv")},
        content_type="multipart/form-data",
    )


def _names(n: int) -> list[list[str]]:
    return [_row(full_name=f"Đỗ Thị Nhập {i}", phone=f"09120000{i:02d}") for i in range(n)]


def _run() -> ImportRun:
    return db.session.execute(sa.select(ImportRun).order_by(ImportRun.id.desc())).scalars().first()


def _events(action: str) -> list[AuditEvent]:
    return list(
        db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == action)).scalars()
    )


def test_a_large_upload_runs_as_a_job_and_publishes_every_row(
    client, world, login_as, small_batches
):
    login_as(world.users["caseworker"])
    response = _upload(client, world, _names(5))
    run = _run()
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/imports/{run.id}")
    assert run.status == RunStatus.QUEUED and run.rows_total == 5
    assert count_rows(Case) == 0 and count_rows(StagedRow) == 5
    page = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "Đang nhập" in page and 'http-equiv="refresh"' in page

    assert jobs.drain() == 1
    db.session.expire_all()
    assert run.status == RunStatus.DONE and run.rows_published == 5
    assert count_rows(Case) == 5 and count_rows(StagedRow) == 0
    assert run.data_key.is_destroyed
    (event,) = _events("case.imported")
    assert json.loads(event.details)["count"] == 5 and len(_events("case.created")) == 5
    # The batch path wrote what an intake writes: sealed fields that open, tokens that find.
    case = db.session.execute(sa.select(Case).order_by(Case.id)).scalars().first()
    assert read_field(case, "full_name") == "Đỗ Thị Nhập 0"
    assert case.id in find_case_ids(probe_groups("Đỗ Thị Nhập 0"))
    assert {c.purpose for c in case.consents} >= {"record"} and case.needs
    assert db.session.execute(sa.select(sa.func.sum(CaseCount.n))).scalar() > 0
    page = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "Đã nhập xong 5 dòng" in page and 'http-equiv="refresh"' not in page


def test_staged_rows_hold_nothing_in_clear_and_open_only_in_their_row(
    client, world, login_as, small_batches
):
    login_as(world.users["caseworker"])
    _upload(client, world, _names(3))
    run = _run()
    staged = list(db.session.execute(sa.select(StagedRow).order_by(StagedRow.row_number)).scalars())
    for row in staged:
        assert "Đỗ Thị".encode() not in row.payload_enc and b"0912000" not in row.payload_enc
    first, second = staged[0], staged[1]
    with pytest.raises(DecryptionError):
        unseal(
            run.data_key,
            first.payload_enc,
            table="import_staged_rows",
            column="payload_enc",
            row_id=second.row_number,
        )


def test_the_progress_page_is_the_importers_alone(client, world, login_as, small_batches):
    login_as(world.users["caseworker"])
    _upload(client, world, _names(3))
    run = _run()
    assert client.get(f"/imports/{run.id}").status_code == 200
    for other in ("caseworker_b", "supervisor", "admin", "auditor"):
        client.post("/auth/sign-out")
        assert sign_in(client, other).status_code == 302
        assert client.get(f"/imports/{run.id}").status_code == 404, other
    client.post("/auth/sign-out")
    assert client.get(f"/imports/{run.id}").status_code in (302, 401)


def test_wrong_rows_are_all_listed_by_number_and_nothing_is_imported(
    client, world, login_as, small_batches
):
    login_as(world.users["caseworker"])
    rows = _names(6)
    rows[1] = _row(consent_record="không")
    rows[4] = _row(needs="not_a_category")
    _upload(client, world, rows)
    run = _run()
    jobs.drain()
    db.session.expire_all()
    assert run.status == RunStatus.REFUSED and run.error_count == 2
    assert [row for row, _m in run.errors] == [3, 6]
    page = client.get(f"/imports/{run.id}").get_data(as_text=True)
    assert "Dòng 3:" in page and "Dòng 6:" in page and "Không nhập dòng nào" in page
    assert count_rows(Case) == 0 and count_rows(StagedRow) == 0
    assert not _events("case.created") and not _events("case.imported")


def _stop_at_batch(monkeypatch, kind, number: int, error: BaseException):
    calls = []

    def publish(actor, run, prepared):
        calls.append(1)
        if len(calls) == number:
            raise error
        return kind.publish(actor, run, prepared)

    monkeypatch.setitem(services._KINDS, "cases", dataclasses.replace(kind, publish=publish))


def _nothing_left(run: ImportRun) -> None:
    db.session.expire_all()
    assert run.status == RunStatus.FAILED and run.rows_published == 0
    for model in (Case, Need, Consent, CaseSearchToken, StagedRow, CaseFigure, RecordKey):
        assert count_rows(model) == 0, model.__name__
    assert not db.session.execute(sa.select(sa.func.sum(CaseCount.n))).scalar()
    assert count_rows(DataKey) == 1 and run.data_key.is_destroyed  # the run's own, destroyed


def test_a_run_killed_while_publishing_is_withdrawn_by_recovery(
    client, world, login_as, small_batches, monkeypatch
):
    login_as(world.users["caseworker"])
    _stop_at_batch(monkeypatch, small_batches, 3, Killed())
    _upload(client, world, _names(7))
    run = _run()
    with pytest.raises(Killed):
        jobs.drain()
    db.session.expire_all()
    assert run.status == RunStatus.PUBLISHING and count_rows(Case) == 4
    assert services.recover() == 0  # still fresh: a live worker may be on it
    assert services.recover(now=utcnow() + timedelta(minutes=11)) == 1
    _nothing_left(run)
    (event,) = _events("case.imported")
    assert event.outcome == "error" and json.loads(event.details)["count"] == 4
    assert "dừng giữa chừng" in client.get(f"/imports/{run.id}").get_data(as_text=True)


def test_an_error_while_publishing_withdraws_at_once(
    client, world, login_as, small_batches, monkeypatch
):
    login_as(world.users["caseworker"])
    _stop_at_batch(monkeypatch, small_batches, 2, RuntimeError("disk full"))
    _upload(client, world, _names(5))
    run = _run()
    jobs.drain()
    _nothing_left(run)


def test_a_small_upload_is_imported_within_the_request(client, world, login_as, small_batches):
    login_as(world.users["caseworker"])
    response = _upload(client, world, _names(2))
    assert response.status_code == 302 and response.headers["Location"].endswith("/cases/")
    assert count_rows(Case) == 2 and count_rows(StagedRow) == 0
    assert _run().status == RunStatus.DONE
