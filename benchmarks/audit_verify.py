"""Audit trail benchmark: verify a chain of a million events; the cost of one append.

    .venv/bin/python benchmarks/audit_verify.py                 # 1,000,000 events, temp SQLite
    .venv/bin/python benchmarks/audit_verify.py --events 200000
    .venv/bin/python benchmarks/audit_verify.py --database-url postgresql+psycopg://...  # PG
      (the PostgreSQL database is emptied: every table is dropped and re-created)

Targets (DESIGN / issue "Audit trail"): verify <= 15 s for 1M events on SQLite on a 2-core
machine; appending an event adds <= 1 ms to a request.

1. Fill: rows are built with the real chain functions (canonical serialization, HMAC under the
   audit key) and bulk-inserted through SQLAlchemy Core, so the stored types are the app's own.
2. Append cost: the same small transaction (rename an org unit, commit) timed with and without
   `audit.record(...)`, alternating, on the full table.
3. Verify: `app.audit.verify.verify_database`, the function behind `flask audit verify`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ACTIONS = [
    ("case.viewed", "case", None),
    ("case.viewed", "case", None),
    ("case.viewed", "case", None),
    ("case.updated", "case", {"changed_fields": ["status", "needs"]}),
    ("auth.sign_in", "user", None),
    ("referral.requested", "referral", {"category": "y_te", "to_status": "requested"}),
    ("access.denied", "case", {"endpoint": "cases.detail", "method": "GET"}),
    ("report.viewed", "report", {"period": "2026-H1"}),
]


def _config(tmp: Path, url: str | None):
    from app.crypto.keyring import Keyring, write_key_file
    from config import TestingConfig

    key_file = tmp / "keys.json"
    if not key_file.exists():
        write_key_file(key_file, Keyring.generate())

    class BenchConfig(TestingConfig):
        TESTING = False
        SQLALCHEMY_DATABASE_URI = url or f"sqlite:///{tmp}/audit-bench.sqlite3"
        CAUNOI_KEY_FILE = str(key_file)
        LOG_LEVEL = "INFO"

    return BenchConfig


SHARDS = 34  # one per province


def fill(app, n: int, batch: int = 20_000) -> float:
    """Append n chained events in bulk, spread over the 34 province shards; returns seconds.

    Hashes come from the app's own canonical serialization and HMAC. SQLite rows go in through
    the DB-API with the time text SQLAlchemy itself writes; other databases through Core.
    """
    import sqlalchemy as sa

    from app.audit.chain import (
        CURRENT_FORMAT,
        GENESIS_HASH,
        STORED_COLUMNS,
        canonical,
        canonical_details,
        head_mac,
        keyed_hasher,
    )
    from app.audit.models import AuditEvent, AuditShard
    from app.crypto.keyring import keyring
    from app.extensions import db

    key = keyring().audit_key
    hasher = keyed_hasher(key)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(seconds=15)
    prev = {s: GENESIS_HASH for s in range(1, SHARDS + 1)}
    position = dict.fromkeys(prev, 0)
    details_text = [canonical_details(d or {}) for _, _, d in ACTIONS]
    sqlite = db.engine.dialect.name == "sqlite"
    insert_sql = (
        f"INSERT INTO audit_events ({', '.join(STORED_COLUMNS)}) "
        f"VALUES ({', '.join('?' * len(STORED_COLUMNS))})"
    )
    started = time.perf_counter()
    with db.engine.begin() as conn:
        cursor = conn.connection.cursor() if sqlite else None
        for lo in range(1, n + 1, batch):
            rows = []
            for seq in range(lo, min(lo + batch, n + 1)):
                kind = seq % len(ACTIONS)
                action, object_type, _ = ACTIONS[kind]
                user = seq % 997
                shard = 1 + (seq * seq) % SHARDS  # uneven, as provinces are
                position[shard] += 1
                at = start + step * seq + timedelta(microseconds=seq % 1_000_000)
                values = [
                    seq,
                    shard,
                    position[shard],
                    CURRENT_FORMAT,
                    at,
                    user,
                    f"canbo{user:03d}",
                    "caseworker",
                    1 + seq % 129,
                    action,
                    object_type,
                    f"NB-2026-{seq % 50_000:05d}",
                    "denied" if action == "access.denied" else "success",
                    None,
                    f"{seq:016x}",
                    "10.0.0.7",
                    details_text[kind],
                    prev[shard],
                ]
                prev[shard] = hasher(canonical(values))
                if sqlite:
                    values[4] = at.strftime("%Y-%m-%d %H:%M:%S.%f")
                rows.append((*values, prev[shard]))
            if sqlite:
                cursor.executemany(insert_sql, rows)
            else:
                conn.execute(
                    AuditEvent.__table__.insert(),
                    [dict(zip(STORED_COLUMNS, r, strict=True)) for r in rows],
                )
            print(f"\r  filled {rows[-1][0]:>9,}", end="", file=sys.stderr, flush=True)
        conn.execute(
            sa.insert(AuditShard.__table__),
            [
                {
                    "shard": s,
                    "last_seq": position[s],
                    "last_hash": prev[s],
                    "mac": head_mac(key, s, position[s], prev[s]),
                }
                for s in prev
                if position[s]
            ],
        )
        if not sqlite:
            conn.execute(sa.text(f"SELECT setval('audit_event_seq', {n})"))
    print(file=sys.stderr)
    return time.perf_counter() - started


def append_cost(app, rounds: int) -> dict:
    """Median/mean cost of record() inside a small real transaction, and of the whole txn."""
    from app.audit.services import record
    from app.extensions import db
    from app.orgs.models import OrgUnit
    from app.permissions import Actor, Role

    unit = db.session.get(OrgUnit, 1)
    if unit is None:
        unit = OrgUnit(id=1, code="37", name="Tỉnh Ninh Bình", level="province", path="/1/")
        db.session.add(unit)
        db.session.commit()
    actor = Actor(
        user_id=1, username="canbo001", role=Role.CASEWORKER, org_unit_id=1, org_path="/1/"
    )
    with_audit, without_audit, record_only = [], [], []
    cpu_with, cpu_without = [], []
    for i in range(rounds * 2 + 20):
        audited = i % 2 == 0
        t0, c0 = time.perf_counter(), time.process_time()
        unit = db.session.get(OrgUnit, 1)
        unit.name = f"Tỉnh Ninh Bình {i}"
        db.session.flush()
        if audited:
            t1 = time.perf_counter()
            record(actor, "org.renamed", unit, details={"changed_fields": ["name"]})
            record_only.append(time.perf_counter() - t1)
        db.session.commit()
        elapsed, cpu = time.perf_counter() - t0, time.process_time() - c0
        if i >= 20:  # warm-up excluded
            (with_audit if audited else without_audit).append(elapsed)
            (cpu_with if audited else cpu_without).append(cpu)
    ms = 1000
    return {
        "added_by_record_cpu_mean_ms": (statistics.fmean(cpu_with) - statistics.fmean(cpu_without))
        * ms,
        "txn_with_record_median_ms": statistics.median(with_audit) * ms,
        "txn_without_record_median_ms": statistics.median(without_audit) * ms,
        "added_by_record_median_ms": (
            statistics.median(with_audit) - statistics.median(without_audit)
        )
        * ms,
        "added_by_record_mean_ms": (statistics.fmean(with_audit) - statistics.fmean(without_audit))
        * ms,
        "record_call_median_ms": statistics.median(record_only[10:]) * ms,
        "record_call_p95_ms": statistics.quantiles(record_only[10:], n=20)[-1] * ms,
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the verify workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=1_000, help="append-cost transactions")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--batch-size", type=int, default=20_000, help="verify batch size")
    parser.add_argument(
        "--reuse",
        metavar="DIR",
        default=None,
        help="an earlier run's directory (printed at the start): skip the fill, measure again",
    )
    args = parser.parse_args()

    tmp = Path(args.reuse) if args.reuse else Path(tempfile.mkdtemp(prefix="audit-bench-"))
    os.environ.setdefault("CAUNOI_INSTANCE_PATH", str(tmp))
    from app import create_app
    from app.crypto.keyring import keyring
    from app.extensions import db

    app = create_app(_config(tmp, args.database_url))
    # Application logs go to a file, as a deployment's would.
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    root.addHandler(logging.FileHandler(tmp / "bench.log"))

    from app.audit.verify import verify_database

    with app.app_context():
        dialect = db.engine.dialect.name
        print(
            f"Audit benchmark in {tmp}: {args.events:,} events, {dialect}, {os.cpu_count()} CPUs",
            file=sys.stderr,
        )
        fill_s = 0.0
        if not args.reuse:
            db.drop_all()
            db.create_all()
            fill_s = fill(app, args.events)
            print(f"fill (build + bulk insert): {fill_s:.1f} s", file=sys.stderr)

        cost = append_cost(app, args.rounds)
        for name, value in cost.items():
            print(f"{name}: {value:.3f}", file=sys.stderr)

        key = keyring().audit_key
        timings = {}
        for label, workers in (("verify_1_process", 1), ("verify", None)):
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            c0 = _cpu()
            t0 = time.perf_counter()
            result = verify_database(db.engine, key, batch_size=args.batch_size, workers=workers)
            verify_s = time.perf_counter() - t0
            cpu_s = _cpu() - c0 + result.worker_cpu_s
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            assert result.ok, result.problem
            timings[label] = (verify_s, cpu_s)
            print(
                f"{label} (workers={result.workers}): {result.checked:,} events in "
                f"{verify_s:.2f} s wall, {cpu_s:.2f} s CPU incl. workers "
                f"({result.checked / verify_s:,.0f} events/s); max RSS "
                f"{rss_before // 1024} -> {rss_after // 1024} MiB; load average "
                f"{os.getloadavg()[0]:.1f}",
                file=sys.stderr,
            )
        if dialect == "sqlite":
            size = Path(db.engine.url.database).stat().st_size
            print(f"database file: {size / 2**20:.0f} MiB", file=sys.stderr)
        report = {
            "events": args.events,
            "dialect": dialect,
            "cpus": os.cpu_count(),
            "fill_s": round(fill_s, 2),
            "verify_s": round(timings["verify"][0], 2),
            "verify_cpu_s": round(timings["verify"][1], 2),
            "verify_1_process_s": round(timings["verify_1_process"][0], 2),
            "verify_1_process_cpu_s": round(timings["verify_1_process"][1], 2),
            "verify_events_per_s": round(result.checked / timings["verify"][0]),
            "load_average_1min": round(os.getloadavg()[0], 1),
            "max_rss_mib_before_verify": rss_before // 1024,
            "max_rss_mib_after_verify": rss_after // 1024,
            **{k: round(v, 3) for k, v in cost.items()},
            "targets": {"verify_s_max": 15, "append_ms_max": 1},
        }
        print(json.dumps(report, indent=2))
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
