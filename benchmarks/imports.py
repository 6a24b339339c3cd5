"""Import benchmark: rows per second of a 20,000-row case import, and how /health and the case
list answer while it runs (issue 16.1).

    .venv/bin/python benchmarks/imports.py                      # 20,000 rows, temp SQLite file
    .venv/bin/python benchmarks/imports.py --rows 5000
    .venv/bin/python benchmarks/imports.py --database-url postgresql+psycopg://...  # PG
      (the PostgreSQL database is emptied: every table is dropped and re-created)

In one process, as `start-demo` runs: the upload goes through the real page (read, staged),
the import runs on the job engine's worker thread, and another thread calls /health and
/cases/ as a signed-in colleague, every 50 ms, timing each answer. Reported: the time of the
upload request, of each phase (staging in the request, validating, publishing), rows per
second overall, and p50 / p95 / max latency of both pages while the import ran.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

PASSWORD = "bench-password-2026"  # noqa: S105 (users of a throwaway database)


def _config(tmp: Path, url: str | None):
    from app.crypto.keyring import Keyring, write_key_file
    from config import TestingConfig

    key_file = tmp / "keys.json"
    write_key_file(key_file, Keyring.generate())

    class Bench(TestingConfig):
        SQLALCHEMY_DATABASE_URI = url or f"sqlite:///{tmp}/bench.sqlite3"
        CAUNOI_KEY_FILE = str(key_file)
        AUDIT_CHECKPOINT_FILE = str(tmp / "audit-checkpoints.log")
        JOBS_BACKEND = "thread"
        WTF_CSRF_ENABLED = False

    return Bench


def _csv(rows: int) -> bytes:
    from app.cases import importer

    base = dict(zip([k for k, _h in importer.COLUMNS], importer.EXAMPLE, strict=True))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([h for _k, h in importer.COLUMNS])
    for n in range(rows):
        values = base | {"full_name": f"Phạm Thị Thử {n}", "phone": f"09{n:08d}"}
        writer.writerow([values[k] for k, _h in importer.COLUMNS])
    return out.getvalue().encode()


def _setup(app) -> int:
    import sqlalchemy as sa

    from app.auth.passwords import hash_password
    from app.extensions import db
    from app.orgs.models import OrgLevel, OrgUnit, User

    with app.app_context():
        meta = db.metadata
        if db.engine.dialect.name == "postgresql":
            reflected = sa.MetaData()
            reflected.reflect(db.engine)
            reflected.drop_all(db.engine)
        meta.create_all(db.engine)
        province = OrgUnit(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE, path="")
        db.session.add(province)
        db.session.flush()
        province.path = f"/{province.id}/"
        commune = OrgUnit(
            code="37-01", name="Xã Một", level=OrgLevel.COMMUNE, parent_id=province.id, path=""
        )
        db.session.add(commune)
        db.session.flush()
        commune.path = f"{province.path}{commune.id}/"
        for name in ("importer", "colleague"):
            db.session.add(
                User(
                    username=name,
                    display_name=name,
                    role="caseworker",
                    org_unit_id=province.id,
                    password_hash=hash_password(PASSWORD),
                )
            )
        db.session.commit()
        return commune.id


def _state(app):
    import sqlalchemy as sa

    from app.extensions import db
    from app.imports.models import ImportRun

    with app.app_context():
        run = db.session.execute(sa.select(ImportRun)).scalars().first()
        state = (run.status, run.rows_validated, run.rows_published) if run else (None, 0, 0)
        db.session.remove()
        return state


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()

    from app import create_app

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(_config(Path(tmp), args.database_url))
        commune_id = _setup(app)
        data = _csv(args.rows)
        uploader, watcher = app.test_client(), app.test_client()
        for client, name in ((uploader, "importer"), (watcher, "colleague")):
            answer = client.post("/auth/sign-in", data={"username": name, "password": PASSWORD})
            assert answer.status_code == 302, answer.status_code
        stop, samples, phases = threading.Event(), [], {}

        def watch():
            while not stop.is_set():
                status = _state(app)[0]
                phases.setdefault(status, time.perf_counter())
                for path in ("/health", "/cases/"):
                    started = time.perf_counter()
                    code = watcher.get(path).status_code
                    samples.append((path, status, code, time.perf_counter() - started))
                time.sleep(0.05)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        started = time.perf_counter()
        answer = uploader.post(
            "/cases/import",
            data={"org_unit_id": commune_id, "file": (io.BytesIO(data), "bench.csv")},
            content_type="multipart/form-data",
        )
        uploaded = time.perf_counter()
        assert answer.status_code == 302, answer.get_data(as_text=True)[:500]
        while _state(app)[0] not in ("done", "refused", "failed"):
            time.sleep(0.2)
        finished = time.perf_counter()
        stop.set()
        thread.join()
        app.extensions["jobs"].stop()
        status, validated, published = _state(app)

    print(f"database: {args.database_url or 'SQLite file'}; rows: {args.rows}; final: {status}")
    print(f"upload request (read + stage): {uploaded - started:.1f} s")
    for name, begin, end in (
        ("validating", phases.get("validating"), phases.get("publishing")),
        ("publishing", phases.get("publishing"), finished),
    ):
        if begin and end:
            print(f"{name}: {end - begin:.1f} s")
    total = finished - started
    print(f"total: {total:.1f} s, {published / total:.0f} rows/s ({validated} validated)")
    for path in ("/health", "/cases/"):
        times = sorted(s[3] for s in samples if s[0] == path and s[1] not in (None, "done"))
        codes = {s[2] for s in samples if s[0] == path}
        if times:
            p95 = times[int(0.95 * (len(times) - 1))]
            print(
                f"{path}: {len(times)} answers during the import, statuses {sorted(codes)}, "
                f"p50 {statistics.median(times) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
                f"max {times[-1] * 1000:.0f} ms"
            )


if __name__ == "__main__":
    main()
