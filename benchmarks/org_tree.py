"""The whole country's org units: import, tree page, and moving a large subtree.

    .venv/bin/python benchmarks/org_tree.py

Builds a temporary SQLite file (or BENCH_DATABASE_URL, e.g. a scratch PostgreSQL database that
will be wiped), then times:
  1. loading all 34 provinces and 3,321 communes/wards from vietnam-provinces through the real
     all-or-nothing import service (every line checked, then inserted, audited once);
  2. building the admin tree (every unit in tree order) and rendering /admin/org-units (the
     whole country collapses to its provinces) and one province's subtree;
  3. moving a district with 2,000 communes to another province (one UPDATE for the subtree).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlalchemy as sa  # noqa: E402
from vietnam_provinces import Province  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from app.orgs import queries, services  # noqa: E402
from app.orgs.models import OrgUnit  # noqa: E402
from app.orgs.official import official_rows  # noqa: E402
from app.permissions import Actor, Role  # noqa: E402
from tests.conftest import make_config, reset_schema  # noqa: E402

SUBTREE = 2_000


def timed(label: str, fn):
    start = time.perf_counter()
    result = fn()
    print(f"{label:<58} {time.perf_counter() - start:8.3f} s")
    return result


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="caunoi-bench-orgs-"))
    os.environ["CAUNOI_INSTANCE_PATH"] = str(tmp)
    app = create_app(make_config(tmp, os.environ.get("BENCH_DATABASE_URL")))
    reset_schema(app)
    system = Actor.system("bench")
    with app.app_context():
        rows = []
        for province in Province.iter_all():
            part = official_rows(str(int(province.code)))
            rows.extend(part)
        for line, row in enumerate(rows, start=2):  # one file: renumber the lines
            rows[line - 2] = services.ImportRow(
                line, row.code, row.name, row.level, row.parent_code
            )
        count = timed(
            f"import {len(rows):,} official units (check + insert)",
            lambda: services.import_org_units(system, rows, via="bench"),
        )
        db.session.commit()
        assert count == len(rows)

        admin = Actor(
            user_id=None, username="bench-admin", role=Role.ADMIN, org_unit_id=None, org_path=None
        )
        tree = timed("org_tree() of every unit", lambda: queries.org_tree(admin))
        assert len(tree) == count

        first, second = db.session.scalars(
            sa.select(OrgUnit).where(OrgUnit.level == "province").order_by(OrgUnit.code).limit(2)
        ).all()
        district = services.create_org_unit(
            system, code="BENCH-D", name="Huyện Thử", level="district", parent=first
        )
        extra = [
            services.ImportRow(n + 2, f"BENCH-{n}", f"Xã Thử {n}", "commune", "BENCH-D")
            for n in range(SUBTREE)
        ]
        services.import_org_units(system, extra, via="bench")
        db.session.commit()
        moved = timed(
            f"move a district with {SUBTREE:,} communes (one UPDATE)",
            lambda: services.move_org_unit(system, district, second),
        )
        db.session.commit()
        assert moved == SUBTREE + 1
        inside = db.session.scalar(
            sa.select(sa.func.count()).where(
                OrgUnit.path.startswith(second.path + f"{district.id}/")
            )
        )
        assert inside == SUBTREE + 1

    from app.orgs.models import User
    from tests.factories import PASSWORD

    with app.app_context():
        from app.auth.passwords import hash_password

        province = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "37"))
        db.session.add(
            User(
                username="bench",
                role=Role.ADMIN,
                org_unit=province,
                password_hash=hash_password(PASSWORD),
            )
        )
        db.session.commit()
    client = app.test_client()
    client.post("/auth/sign-in", data={"username": "bench", "password": PASSWORD})
    response = timed(
        "GET /admin/org-units (all units, rendered)", lambda: client.get("/admin/org-units")
    )
    assert response.status_code == 200, response.status_code
    print(f"{'tree page size (collapsed to provinces)':<58} {len(response.data) / 1024:8.0f} KiB")
    response = timed(
        "GET /admin/org-units?under=37 (one province's subtree)",
        lambda: client.get("/admin/org-units?under=37"),
    )
    assert response.status_code == 200, response.status_code
    print(f"{'subtree page size':<58} {len(response.data) / 1024:8.0f} KiB")


if __name__ == "__main__":
    main()
