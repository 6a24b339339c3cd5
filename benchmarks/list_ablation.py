"""What each part of the case list costs under gunicorn: the list served as it is, then with its
parts taken away one after another, beside hello-world and the signed-in floor in one run.

    .venv/bin/python benchmarks/list_ablation.py [--cases 100000] [--dir /tmp/nat100k]
                                                 [--database-url URL] [--seconds 4]

The data set is the national benchmark's (`benchmarks/national.py`, built there first). Each
variant starts its own gunicorn (2 workers, `wrk -t2 -c16`) on a copy of the app whose parts
are replaced in the worker, never in the app itself:

- `as is`: the page as users get it;
- `- audit`: without recording the view (every list view is audited: DESIGN.md);
- `- decrypt`: also without decrypting the 25 names (the codes shown instead);
- `- count, transfers`: also without the capped count and the incoming transfers' banner.

What remains in the last variant is the floor (session, CSRF, navigation, bell, layout) plus the
list's own reads and its rendering: how far the list can go on this stack without dropping what
the design asks of it. It measures; it is not a way to run the app.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cases as casebench  # noqa: E402
import national  # noqa: E402
import serving  # noqa: E402

WSGI = """
import os
from app.wsgi import app  # noqa: F401
import app.cases.queries as queries
import app.cases.routes as routes
import app.cases.services as services

_parts = set(filter(None, os.environ.get("CAUNOI_ABLATE", "").split(",")))
if "audit" in _parts:
    services.record_list_view = lambda *args, **kwargs: None
if "decrypt" in _parts:
    routes.unreadable_name = lambda read, code, unreadable: code
if "count" in _parts:
    queries.capped_count = lambda stmt, cap=queries.COUNT_CAP: (cap, True)
    queries.incoming_transfers = lambda actor: []
"""

VARIANTS = {
    "as is": "",
    "- audit": "audit",
    "- decrypt": "audit,decrypt",
    "- count, transfers": "audit,decrypt,count",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--dir", default="/tmp/caunoi-bench-national")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seconds", type=float, default=4)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--runs", type=int, default=3, help="median of this many runs")
    args = parser.parse_args()
    casebench.DATABASE_URL = args.database_url
    directory = Path(args.dir)
    national.build(directory, args.cases)
    floor = serving.Page("floor", "/account/api-tokens", national.CASEWORKER)
    listed = serving.Page("list", "/cases/", national.CASEWORKER)

    wsgi_dir = directory / "ablation"
    wsgi_dir.mkdir(exist_ok=True)
    (wsgi_dir / "ablation_wsgi.py").write_text(WSGI)
    runs: dict[str, list[float]] = {}
    for _ in range(args.runs):
        runs.setdefault("hello-world", []).append(serving.hello_rps(args.seconds, args.connections))
        for name, parts in VARIANTS.items():
            env = {"CAUNOI_ABLATE": parts, "PYTHONPATH": f"{wsgi_dir}{os.pathsep}{casebench.ROOT}"}
            pages = [floor, listed] if name == "as is" else [listed]
            got = serving.page_rps(
                directory,
                pages,
                args.seconds,
                args.connections,
                target="ablation_wsgi:app",
                env=env,
            )
            if name == "as is":
                runs.setdefault("floor: signed-in, no case", []).append(got["floor"])
            runs.setdefault(f"list {name}", []).append(got["list"])

    hello = statistics.median(runs["hello-world"])
    print(
        f"\n{args.cases:,} cases, {'PostgreSQL' if args.database_url else 'SQLite'}, "
        f"median of {args.runs} runs, load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'page':<30} {'req/s':>8} {'x hello':>8}")
    for name, values in runs.items():
        rps = statistics.median(values)
        print(f"{name:<30} {rps:8.0f} {rps / hello:8.3f}")


if __name__ == "__main__":
    main()
