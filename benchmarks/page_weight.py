"""Weight of a page with its CSS, JS and images, gzip-compressed as a server would send them.

    .venv/bin/python benchmarks/page_weight.py [PATH ...]    (default: /auth/sign-in)

Signs in as the demo caseworker first for pages that need it (set PAGE_USER / PAGE_PASSWORD).
"""

from __future__ import annotations

import gzip
import os
import re
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

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
        from app.orgs.demo import seed

        seed("benchmark password 123")
        db.session.commit()
    client = app.test_client()
    user = os.environ.get("PAGE_USER")
    if user:
        client.post(
            "/auth/sign-in",
            data={
                "username": user,
                "password": os.environ.get("PAGE_PASSWORD", "benchmark password 123"),
            },
        )
    for path in paths:
        raw, compressed, parts = weigh(client, path)
        print(f"{path}: {compressed:,} bytes gzip ({raw:,} raw)")
        for name, r, c in parts:
            print(f"  {name}: {c:,} gzip / {r:,} raw")


if __name__ == "__main__":
    main(sys.argv[1:] or ["/auth/sign-in"])
