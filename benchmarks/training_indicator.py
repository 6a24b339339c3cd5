"""Time the staff-trained indicator over a province's year of training.

Run: .venv/bin/python benchmarks/training_indicator.py [SESSIONS]   (default 2000)
A province of 129 communes (Ninh Bình since July 2025) with 1,300 staff accounts; each
session has 5 named attendees and 3 units' head counts. Times what the dashboard adds for
the indicator: loading the year's training of the subtree, the staff in post of the plan, and
the rows of the table. Uses a temporary SQLite file, or DATABASE_URL (a scratch PostgreSQL
database: its tables are dropped and recreated).
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.orgs.models import OrgUnit, User  # noqa: E402
from app.reports.models import Plan  # noqa: E402
from app.training import indicators  # noqa: E402
from app.training.models import (  # noqa: E402
    StaffInPost,
    TrainingAttendee,
    TrainingHeadcount,
    TrainingSession,
)
from tests.conftest import make_config, reset_schema  # noqa: E402


def _build(total: int, rng: random.Random) -> OrgUnit:
    province = OrgUnit(code="37", name="Ninh Bình", level="province", path="")
    db.session.add(province)
    db.session.flush()
    province.path = f"/{province.id}/"
    units = [province]
    for i in range(129):
        unit = OrgUnit(code=f"37-{i:03d}", name=f"Xã {i}", level="commune", parent=province)
        db.session.add(unit)
        db.session.flush()
        unit.path = f"{province.path}{unit.id}/"
        units.append(unit)
    plan = Plan(
        org_unit_id=province.id,
        name="KH",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    db.session.add(plan)
    db.session.flush()
    db.session.execute(
        sa.insert(User),
        [
            {
                "id": n,
                "username": f"u{n}",
                "role": rng.choice(["caseworker", "volunteer"]),
                "org_unit_id": units[n % len(units)].id,
                "password_hash": "x",
            }
            for n in range(1, 1301)
        ],
    )
    db.session.execute(
        sa.insert(StaffInPost),
        [{"plan_id": plan.id, "org_unit_id": u.id, "officers": rng.randint(20, 60)} for u in units],
    )
    ids = [u.id for u in units]
    db.session.execute(
        sa.insert(TrainingSession),
        [
            {
                "id": n,
                "org_unit_id": rng.choice(ids),
                "held_on": date(2026, 1, 1) + timedelta(days=rng.randrange(0, 365)),
                "topic": "T",
                "organizer": "",
                "format": "in_person",
            }
            for n in range(1, total + 1)
        ],
    )
    db.session.execute(
        sa.insert(TrainingAttendee),
        [
            {"session_id": n, "user_id": uid}
            for n in range(1, total + 1)
            for uid in rng.sample(range(1, 1301), 5)
        ],
    )
    db.session.execute(
        sa.insert(TrainingHeadcount),
        [
            {
                "session_id": n,
                "org_unit_id": uid,
                "officers": rng.randint(0, 1),
                "volunteers": rng.randint(0, 6),
            }
            for n in range(1, total + 1)
            for uid in rng.sample(ids, 3)
        ],
    )
    db.session.commit()
    if db.engine.dialect.name == "postgresql":  # as autovacuum would after a real year's rows
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")
    return province, plan


def main(total: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    app = create_app(make_config(tmp, os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/b.db"))
    reset_schema(app)
    with app.app_context():
        province, plan = _build(total, random.Random(1))
        everyone = {u.id for u in db.session.scalars(sa.select(OrgUnit))}
        times = []
        for _ in range(5):
            started = time.perf_counter()
            staff = indicators.load(province, date(2026, 1, 1), date(2026, 12, 31))
            in_post = indicators.staff_in_post(plan, province)
            rows = [indicators.cells(staff, in_post, {uid}) for uid in everyone]
            total_row = indicators.target_figure(staff, in_post, everyone)
            times.append(time.perf_counter() - started)
        print(f"{total} sessions, {len(rows)} unit rows: {total_row.text}")
        print(
            f"indicator + table: best {min(times) * 1000:.1f} ms, "
            f"median {sorted(times)[2] * 1000:.1f} ms ({db.engine.dialect.name})"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
