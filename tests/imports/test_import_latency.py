"""While a 20,000-row case import runs, /health and the case list still answer within a second
(issue 16.1, acceptance). The import runs on the job engine's worker thread against a database
file of its own (or a private PostgreSQL database), as in `start-demo`; another thread keeps
calling both pages and measures each answer.

A latency bound in a test is what the issue accepts as its proof; the bound (1 s) is the one
the issue names, several times the usual answer, and far below the 15 s requests waited before.
"""

from __future__ import annotations

import csv
import io
import os
import threading
import time

import pytest
import sqlalchemy as sa

from app import create_app
from app.cases import importer
from app.cases.models import Case
from app.extensions import db
from app.imports.models import ImportRun, RunStatus
from app.orgs.models import OrgLevel
from app.permissions import Role
from tests.conftest import make_config, private_pg_url, reset_schema, sign_in, wipe_database
from tests.factories import OrgUnitFactory, UserFactory

pytestmark = pytest.mark.real_db

ROWS = 20_000
BOUND_SECONDS = 1.0
DEADLINE_SECONDS = 600  # the whole import; it takes well under a minute on a quiet machine


def _database_url(tmp_path) -> tuple[str, str | None]:
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        url = private_pg_url("imports_latency")
        wipe_database(url)
        return url, url
    return f"sqlite:///{tmp_path}/latency.sqlite3", None


def _drop(url: str) -> None:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture
def app(tmp_path):
    url, private = _database_url(tmp_path)
    config = make_config(tmp_path, url)
    config.JOBS_BACKEND = "thread"
    app = create_app(config)
    reset_schema(app)
    with app.app_context():
        province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
        commune = OrgUnitFactory(
            code="37-01", name="Xã Một", level=OrgLevel.COMMUNE, parent=province
        )
        UserFactory(username="importer", role=Role.CASEWORKER, org_unit=province)
        UserFactory(username="colleague", role=Role.CASEWORKER, org_unit=province)
        db.session.commit()
        app.config["TEST_COMMUNE_ID"] = commune.id
    yield app
    app.extensions["jobs"].stop()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    if private:
        _drop(private)


def _csv(rows: int) -> bytes:
    base = dict(zip([k for k, _h in importer.COLUMNS], importer.EXAMPLE, strict=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([h for _k, h in importer.COLUMNS])
    for n in range(rows):
        values = base | {"full_name": f"Phạm Thị Thử {n}", "phone": f"09{n:08d}"}
        writer.writerow([values[k] for k, _h in importer.COLUMNS])
    return out.getvalue().encode()


def _run_state(app) -> tuple[str | None, int]:
    with app.app_context():
        run = db.session.execute(sa.select(ImportRun)).scalars().first()
        state = (run.status, run.rows_published) if run else (None, 0)
        db.session.remove()
        return state


def _watch(app, client, stop: threading.Event, samples: list) -> None:
    while not stop.is_set():
        phase = _run_state(app)[0]
        for path in ("/health", "/cases/"):
            started = time.perf_counter()
            status = client.get(path).status_code
            samples.append((path, phase, status, time.perf_counter() - started))
        time.sleep(0.05)


def test_health_and_the_case_list_answer_within_a_second_during_a_20000_row_import(app):
    data = _csv(ROWS)
    assert len(data) < importer.MAX_BYTES
    uploader, watcher = app.test_client(), app.test_client()
    assert sign_in(uploader, "importer").status_code == 302
    assert sign_in(watcher, "colleague").status_code == 302
    stop, samples = threading.Event(), []
    thread = threading.Thread(target=_watch, args=(app, watcher, stop, samples), daemon=True)
    thread.start()
    try:
        response = uploader.post(
            "/cases/import",
            data={
                "org_unit_id": app.config["TEST_COMMUNE_ID"],
                "file": (io.BytesIO(data), "nhieu.csv"),
            },
            content_type="multipart/form-data",
        )
        assert response.status_code == 302 and "/imports/" in response.headers["Location"]
        deadline = time.monotonic() + DEADLINE_SECONDS
        while _run_state(app)[0] not in (RunStatus.DONE, RunStatus.REFUSED, RunStatus.FAILED):
            assert time.monotonic() < deadline, _run_state(app)
            time.sleep(0.5)
    finally:
        stop.set()
        thread.join(timeout=30)
    assert _run_state(app) == (RunStatus.DONE, ROWS)
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(Case.id))).scalar_one() == ROWS
    during = [s for s in samples if s[1] in (RunStatus.VALIDATING, RunStatus.PUBLISHING)]
    assert len([s for s in during if s[0] == "/health"]) >= 10, len(during)
    assert {s[2] for s in samples} == {200}
    slow = [s for s in samples if s[3] >= BOUND_SECONDS]
    assert not slow, (slow[:5], len(samples))
