"""Copy a benchmark data set from its SQLite file into an empty PostgreSQL database.

    .venv/bin/python benchmarks/copy_to_postgres.py --dir /tmp/nat1m --to-dir /tmp/nat1m-pg \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/caunoi_nat1m

Building a national data set seals every case with its own data key: an hour for a million
cases on two cores. The same rows, copied, take minutes and give PostgreSQL the very data the
SQLite figures were measured on. The target is migrated first (`flask db upgrade`, so its schema
is the migrations' own), every table is copied in foreign-key order through SQLAlchemy Core (the
column types convert dates, UUIDs and JSON), the id sequences are moved past the copied rows,
and the key set and the data set's marker go to --to-dir. Sealed fields and the audit chain are
copied byte for byte: they stay readable and verifiable with the same key set.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import cases as casebench  # noqa: E402

CHUNK = 5_000


def copy(source_url: str, target_url: str) -> None:
    import sqlalchemy as sa

    from app import create_app  # noqa: F401  (imports every module's models)
    from app.extensions import db

    create_app()
    source = sa.create_engine(source_url)
    target = sa.create_engine(target_url)
    tables = [t for t in db.metadata.sorted_tables if t.name != "alembic_version"]
    with target.begin() as conn:
        # Whatever the migrations seeded goes: the copy brings the source's own rows.
        conn.exec_driver_sql("SET session_replication_role = replica")  # no guards, no FK checks
        for table in reversed(tables):
            conn.execute(table.delete())
    raw = target.raw_connection()  # psycopg: COPY, ten times the rows per second of INSERT
    try:
        for table in tables:
            started = time.perf_counter()
            copied = _copy_table(source, raw, table)
            if copied:
                print(f"{table.name}: {copied:,} rows in {time.perf_counter() - started:.0f} s")
    finally:
        raw.close()
    with target.begin() as conn:
        for table in tables:
            column = table.c.get("id")
            if column is not None and isinstance(column.type, sa.Integer):
                conn.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                    f"(SELECT COALESCE(MAX(id), 1) FROM {table.name}))"
                )
        # The audit trail's global order comes from a sequence of its own (app/audit/models.py).
        conn.exec_driver_sql(
            "SELECT setval('audit_event_seq', (SELECT COALESCE(MAX(seq), 1) FROM audit_events))"
        )
    with target.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")


def _copy_table(source, raw, table) -> int:
    import sqlalchemy as sa
    from psycopg.types.json import Json

    names = [c.name for c in table.columns]
    json_at = [i for i, c in enumerate(table.columns) if isinstance(c.type, sa.JSON)]
    copied = 0
    cursor = raw.cursor()
    cursor.execute("SET session_replication_role = replica")
    columns = ", ".join(f'"{n}"' for n in names)
    with source.connect() as read, cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN") as out:
        result = read.execution_options(yield_per=CHUNK).execute(sa.select(table))
        for rows in result.partitions(CHUNK):
            for row in rows:
                values = list(row)
                for i in json_at:
                    if values[i] is not None:
                        values[i] = Json(values[i])
                out.write_row(values)
            copied += len(rows)
    raw.commit()
    return copied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, help="the SQLite data set's directory")
    parser.add_argument("--database-url", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--to-dir", required=True, help="the PostgreSQL data set's directory")
    args = parser.parse_args()
    source, target = Path(args.dir), Path(args.to_dir)
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(source / "keys.json", target / "keys.json")
    shutil.copy2(source / "secret_key", target / "secret_key")
    casebench.DATABASE_URL = args.database_url
    env = casebench.env_for(target)
    flask = [str(casebench.VENV_BIN / "flask"), "--app", "app"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True)
    os.environ.update(env)
    started = time.perf_counter()
    copy(f"sqlite:///{source}/bench.sqlite3", args.database_url)
    for marker in source.glob("national-*"):
        (target / marker.name).touch()
    print(f"copied in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
