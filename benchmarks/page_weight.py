"""Weight of a page with its CSS, JS and images, gzip-compressed as a server would send them.

    .venv/bin/python benchmarks/page_weight.py [PATH ...]    (default: /auth/sign-in)
    .venv/bin/python benchmarks/page_weight.py --all         (every role's main pages)

Signs in as PAGE_USER (PAGE_PASSWORD) first for pages that need it. The whole demo province is
seeded (cases, referrals, outreach, reports), so lists weigh what they weigh in the demo.
Budget: 50 KB gzip for any page with its assets (issue #13).
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

# The demo refuses a guessable password (app/auth/strength.py).
DEMO_PASSWORD = "gạo nếp cẩm dưới gốc đa làng Vân"

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402
from tests.conftest import make_config, reset_schema  # noqa: E402

ASSET = re.compile(r'(?:href|src)="(/static/[^"]+)"')


def gz(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=6))


def weigh(client, path: str) -> tuple[int, int, list[tuple[str, int, int]]]:
    page = client.get(path)
    html = page.get_data()
    parts = [(path, len(html), gz(html))]
    for asset in sorted(set(ASSET.findall(html.decode()))):
        body = client.get(asset).get_data()
        parts.append((asset, len(body), gz(body)))
    return sum(p[1] for p in parts), sum(p[2] for p in parts), parts


def main(paths: list[str]) -> None:
    tmp = tempfile.mkdtemp()
    os.environ["CAUNOI_INSTANCE_PATH"] = tmp
    app = create_app(make_config(Path(tmp)))
    reset_schema(app)
    with app.app_context():
        from app.home.cli import _seeders

        for _name, mod in _seeders():
            mod.seed(DEMO_PASSWORD)
            db.session.commit()
    if paths == ["--all"]:
        return weigh_all(app)
    client = app.test_client()
    user = os.environ.get("PAGE_USER")
    if user:
        client.post(
            "/auth/sign-in",
            data={
                "username": user,
                "password": os.environ.get("PAGE_PASSWORD", DEMO_PASSWORD),
            },
        )
    for path in paths:
        raw, compressed, parts = weigh(client, path)
        print(f"{path}: {compressed:,} bytes gzip ({raw:,} raw)")
        for name, r, c in parts:
            print(f"  {name}: {c:,} gzip / {r:,} raw")


# Each role's main pages: home, lists and one object page (the first link of its list).
ROLE_PAGES = {
    "caseworker": ["/home", "/cases/", "/referrals/", "/partners/", "/outreach/new", "/reports/"],
    "volunteer": ["/home", "/outreach/new", "/cases/"],
    "partner": ["/home", "/referrals/"],
    "supervisor": ["/home", "/reports/", "/reports/report"],
    "admin": ["/home", "/admin/users", "/admin/org-units", "/audit/"],
}
FIRST_OF = {"/cases/": r'href="(/cases/NB-[^"]+)"', "/referrals/": r'href="(/referrals/\d+)"'}
BUDGET = 50 * 1024


def weigh_all(app) -> None:
    worst = 0
    for user, paths in ROLE_PAGES.items():
        client = app.test_client()
        client.post("/auth/sign-in", data={"username": user, "password": DEMO_PASSWORD})
        for path in list(paths):
            if path in FIRST_OF:
                html = client.get(path).get_data(as_text=True)
                if m := re.search(FIRST_OF[path], html):
                    paths.append(m.group(1))
        for path in paths:
            raw, compressed, _parts = weigh(client, path)
            worst = max(worst, compressed)
            flag = "" if compressed <= BUDGET else "  OVER 50 KB"
            print(f"{user:<11} {path:<28} {compressed:>7,} B gzip ({raw:,} raw){flag}")
    print(f"heaviest: {worst:,} B gzip (budget {BUDGET:,})")


if __name__ == "__main__":
    main(sys.argv[1:] or ["/auth/sign-in"])
