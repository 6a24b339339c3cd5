"""Time the outreach indicators over a province-sized table.

Run: .venv/bin/python benchmarks/outreach_indicators.py [ACTIVITIES]   (default 100000)
Uses a temporary SQLite file, or DATABASE_URL when set to a scratch PostgreSQL database
(its tables are dropped and recreated).
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
from app.orgs.models import OrgUnit  # noqa: E402
from app.outreach import indicators  # noqa: E402
from app.outreach.models import OutreachActivity, OutreachTopic  # noqa: E402
from app.outreach.vocab import AUDIENCES, FORMS, PLACES, TOPICS  # noqa: E402
from tests.conftest import make_config, reset_schema  # noqa: E402


def main(total: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    app = create_app(make_config(tmp, os.environ.get("DATABASE_URL") or f"sqlite:///{tmp}/b.db"))
    reset_schema(app)
    rng = random.Random(1)
    with app.app_context():
        province = OrgUnit(code="37", name="Ninh Bình", level="province", path="")
        db.session.add(province)
        db.session.flush()
        province.path = f"/{province.id}/"
        communes = []
        for i in range(129):  # Ninh Bình's communes and wards since July 2025
            unit = OrgUnit(code=f"37-{i:03d}", name=f"Xã {i}", level="commune", parent=province)
            db.session.add(unit)
            db.session.flush()
            unit.path = f"{province.path}{unit.id}/"
            communes.append(unit.id)
        db.session.commit()
        start = date(2025, 1, 1)
        rows, topics = [], []
        for n in range(1, total + 1):
            rows.append(
                {
                    "id": n,
                    "org_unit_id": rng.choice(communes[:120]),  # nine communes never active
                    "held_on": start + timedelta(days=rng.randrange(0, 365)),
                    "form": rng.choice(list(FORMS)),
                    "place": rng.choice(list(PLACES)),
                    "idempotency_key": f"bench-{n}",
                    **{f"reached_{a}": rng.randrange(0, 50) for a in AUDIENCES},
                    "partners_involved": "",
                    "notes": "",
                }
            )
            topics.append({"activity_id": n, "topic": rng.choice(list(TOPICS))})
        t = time.perf_counter()
        for i in range(0, total, 5000):
            db.session.execute(sa.insert(OutreachActivity), rows[i : i + 5000])
            db.session.execute(sa.insert(OutreachTopic), topics[i : i + 5000])
        db.session.commit()
        print(
            f"{db.engine.dialect.name}: inserted {total} activities in "
            f"{time.perf_counter() - t:.1f} s"
        )
        end = date(2025, 12, 31)
        if os.environ.get("SHOW_PLAN"):
            stmt = sa.select(sa.func.count()).where(*indicators._live(province, start, end))
            sql = str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))
            for row in db.session.execute(sa.text("EXPLAIN QUERY PLAN " + sql)):
                print("  plan:", row)
            db.session.rollback()
        for name in (
            "communes_with_activity",
            "people_reached",
            "reached_by_form",
            "activities_per_month",
        ):
            fn = getattr(indicators, name)
            fn(province, start, end)  # warm
            t = time.perf_counter()
            for _ in range(5):
                result = fn(province, start, end)
            ms = (time.perf_counter() - t) / 5 * 1000
            shown = result if name == "communes_with_activity" else f"{len(result)} keys"
            print(f"  {name}(province, year): {ms:.1f} ms  -> {shown}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
