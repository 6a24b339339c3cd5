"""Audited actions per second with 1, 2, 4 and 8 concurrent writers (PostgreSQL).

    .venv/bin/python benchmarks/national_audit.py --database-url postgresql+psycopg://.../caunoi_x
      [--writers 1,2,4,8] [--seconds 5] [--same-province]

Each writer is a thread with its own connection, recording `case.viewed` events (one event, one
commit: what a case view costs the audit) as a caseworker of its own province (writer i in
province i + 1), or all in one province with --same-province. The database is emptied first
(every table dropped and re-created).

"Before" figures come from the same script run against the code before the audit shards:
    git worktree add /tmp/caunoi-before <commit> && cd /tmp/caunoi-before && \\
      PYTHONPATH=. /work/main/.venv/bin/python /path/to/benchmarks/national_audit.py ...
It only uses create_app, db and app.audit.services.record, which both versions have.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, os.getcwd())


def _app(url: str, tmp: Path):
    from app import create_app
    from app.crypto.keyring import Keyring, write_key_file
    from config import TestingConfig

    key_file = tmp / "keys.json"
    write_key_file(key_file, Keyring.generate())

    class BenchConfig(TestingConfig):
        TESTING = False
        SQLALCHEMY_DATABASE_URI = url
        CAUNOI_KEY_FILE = str(key_file)

    return create_app(BenchConfig)


def run(app, writers: int, seconds: float, same_province: bool) -> float:
    from app.audit import services
    from app.extensions import db
    from app.permissions import Actor, Role

    counts = [0] * writers
    barrier = threading.Barrier(writers + 1)
    stop = threading.Event()
    errors: list[BaseException] = []

    def work(i: int) -> None:
        province = 1 if same_province else i + 1
        actor = Actor(i + 1, f"cb{i}", Role.CASEWORKER, province, f"/{province}/")
        try:
            with app.app_context():
                barrier.wait()
                while not stop.is_set():
                    services.record(actor, "case.viewed", object_type="case", object_ref="NB-1")
                    db.session.commit()
                    counts[i] += 1
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001 - reported
            errors.append(exc)
            stop.set()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join(30)
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return sum(counts) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--writers", default="1,2,4,8")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--same-province", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="caunoi-audit-writers-") as tmp:
        app = _app(args.database_url, Path(tmp))
        from app.extensions import db

        with app.app_context():
            db.drop_all()
            db.create_all()
            db.session.remove()
        print(
            f"audited actions/s, {'one province' if args.same_province else 'own provinces'}, "
            f"{args.seconds:.0f} s each, {os.cpu_count()} CPUs",
            file=sys.stderr,
        )
        for n in (int(w) for w in args.writers.split(",")):
            rate = run(app, n, args.seconds, args.same_province)
            print(f"writers={n}: {rate:,.0f} actions/s (load average {os.getloadavg()[0]:.1f})")
        with app.app_context():
            from app.audit.verify import verify_database
            from app.crypto.keyring import keyring

            result = verify_database(db.engine, keyring().audit_key)
            print(f"verify: {'OK' if result.ok else 'FAILED'}, {result.checked:,} events")
            db.engine.dispose()


if __name__ == "__main__":
    main()
