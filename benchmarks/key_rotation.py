"""Time `flask keys rotate` over many data keys (target: 100,000 keys in at most 30 s).

    .venv/bin/python benchmarks/key_rotation.py [COUNT] [--batch-size N]

Builds a temporary SQLite file (or BENCH_DATABASE_URL, e.g. a scratch PostgreSQL database: its
tables are dropped before and after), bulk-inserts COUNT data keys (default 100,000) wrapped
under master version 1, then runs the real `keys rotate` command and checks that every key moved
to version 2 and that sampled keys still unwrap to the same bytes.
"""

from __future__ import annotations

import argparse
import os
import random
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from app.crypto.envelope import unwrap_key, wrap_key  # noqa: E402
from app.crypto.keyring import load_keyring  # noqa: E402
from app.crypto.models import DataKey  # noqa: E402
from app.crypto.rotation import DEFAULT_BATCH_SIZE  # noqa: E402
from app.db import utcnow  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.conftest import make_config, reset_schema  # noqa: E402

TARGET_SECONDS = 30.0
INSERT_CHUNK = 10_000


def bulk_insert(app, count: int) -> dict[int, bytes]:
    """Insert `count` data keys under master version 1; returns a sample {id: raw key}."""
    table = DataKey.__table__
    sample_ids = set(random.sample(range(1, count + 1), min(count, 50)))
    sample: dict[int, bytes] = {}
    with app.app_context():
        master = load_keyring(app.config).master_key(1)
        now = utcnow()
        for start in range(1, count + 1, INSERT_CHUNK):
            rows = []
            for key_id in range(start, min(start + INSERT_CHUNK, count + 1)):
                raw = secrets.token_bytes(32)
                if key_id in sample_ids:
                    sample[key_id] = raw
                rows.append(
                    {
                        "id": key_id,
                        "wrapped_key": wrap_key(raw, key_id, 1, master),
                        "master_version": 1,
                        "created_at": now,
                    }
                )
            db.session.execute(sa.insert(table), rows)
            db.session.commit()
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.exec_driver_sql(
                    "SELECT setval(pg_get_serial_sequence('data_keys', 'id'), "
                    "(SELECT max(id) FROM data_keys))"
                )
    return sample


def check(app, count: int, sample: dict[int, bytes]) -> None:
    table = DataKey.__table__
    with app.app_context():
        by_version = dict(
            db.session.execute(
                sa.select(table.c.master_version, sa.func.count()).group_by(table.c.master_version)
            ).all()
        )
        assert by_version == {2: count}, by_version
        ring = load_keyring(app.config)
        rows = db.session.execute(
            sa.select(table.c.id, table.c.wrapped_key).where(table.c.id.in_(list(sample)))
        )
        for key_id, wrapped in rows:
            assert unwrap_key(bytes(wrapped), key_id, 2, ring.master_key(2)) == sample[key_id]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="caunoi-bench-"))
    os.environ["CAUNOI_INSTANCE_PATH"] = str(tmp)
    os.environ.pop("CAUNOI_KEYS", None)
    url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{tmp}/bench.sqlite3"
    app = create_app(make_config(tmp, url))
    reset_schema(app)
    print(f"database: {sa.engine.make_url(url).get_backend_name()} ({tmp})")

    started = time.perf_counter()
    sample = bulk_insert(app, args.count)
    print(f"inserted {args.count:,} data keys in {time.perf_counter() - started:.1f} s")

    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["keys", "rotate", "--batch-size", str(args.batch_size)])
    elapsed = time.perf_counter() - started
    if result.exit_code != 0:
        print(result.output)
        raise SystemExit(f"keys rotate failed (exit {result.exit_code})")
    check(app, args.count, sample)
    rate = args.count / elapsed if elapsed else float("inf")
    verdict = "within" if elapsed <= TARGET_SECONDS * args.count / 100_000 else "OVER"
    print(
        f"keys rotate: {args.count:,} data keys re-wrapped in {elapsed:.1f} s "
        f"({rate:,.0f} keys/s, batch size {args.batch_size}); {verdict} the target of "
        f"{TARGET_SECONDS:.0f} s per 100,000"
    )
    with app.app_context():
        # Leave no data keys behind: under a key file that is deleted next, they would stop
        # any later app on this database from starting.
        db.drop_all()
        db.engine.dispose()
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
