"""The floor: what a signed-in page costs before it does anything of its own.

    .venv/bin/python benchmarks/page_floor.py [--cases 300] [--dir /tmp/caunoi-bench-floor]
                                              [--requests 300] [--lang vi] [--profile PATH]

In-process with Flask's test client, signed in as the demo caseworker (through the real form) on
a small demo data set (`flask demo --cases N`, built once and reused while --dir exists). For each
page: process CPU time per request (time.process_time; SQLite runs in this process, so its work
counts too), p50 and p95 over --requests requests, and Python function calls per request
(cProfile, over 50 more). A hello-world Flask app is measured the same way for reference: every
signed-in page pays the first row's cost, so no page can beat hello-world by more than that ratio.

--profile DIR also writes each page's cProfile statistics (pstats) there, one file a page, to
read with `python -m pstats DIR/api-tokens.prof` (sort tottime / cumtime).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from pathlib import Path

import cases as casebench  # benchmarks/cases.py: build, env_for, PASSWORD

WARM_UP = 30
PROFILED = 50


def _hello_client():
    from flask import Flask

    hello = Flask("hello")

    @hello.get("/")
    def index():
        return "Hello, world!"

    return hello.test_client()


def _signed_in_client(directory: Path, lang: str):
    os.environ.update(casebench.env_for(directory))
    sys.path.insert(0, str(casebench.ROOT))
    from app import create_app

    app = create_app()
    client = app.test_client()
    page = client.get("/auth/sign-in").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    form = {"csrf_token": token, "username": "caseworker", "password": casebench.PASSWORD}
    response = client.post("/auth/sign-in", data=form)
    if response.status_code != 302:
        raise SystemExit(f"sign-in failed: {response.status_code}")
    with client.session_transaction() as s:
        s["lang"] = lang
    return client


def _case_path(client) -> str:
    body = client.get("/cases/").get_data(as_text=True)
    return "/cases/" + re.search(r'href="/cases/([A-Z]{2}-\d{4}-\d{5})"', body).group(1)


def measure(client, path: str, requests: int) -> dict:
    def get() -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")

    for _ in range(WARM_UP):  # statements compiled, templates loaded, catalogues read
        get()
    cpu = []
    for _ in range(requests):
        c0 = time.process_time()
        get()
        cpu.append((time.process_time() - c0) * 1000)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(PROFILED):
        get()
    profiler.disable()
    stats = pstats.Stats(profiler)
    cpu.sort()
    return {
        "p50": statistics.median(cpu),
        "p95": cpu[max(0, int(len(cpu) * 0.95) - 1)],
        "calls": stats.total_calls / PROFILED,
        "stats": stats,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/caunoi-bench-floor"))
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--lang", choices=("vi", "en"), default="vi")
    parser.add_argument("--profile", type=Path, default=None, metavar="DIR")
    args = parser.parse_args()
    casebench.build(args.dir, args.cases)

    hello = measure(_hello_client(), "/", args.requests)
    client = _signed_in_client(args.dir, args.lang)
    pages = {
        "/account/api-tokens": "/account/api-tokens",
        "home (/home)": "/home",
        "case list": "/cases/",
        "case page": _case_path(client),
    }
    results = {name: measure(client, path, args.requests) for name, path in pages.items()}

    print(f"\n{args.cases} demo cases, caseworker, {args.lang}, {args.requests} requests a page")
    print(f"{'page':<22} {'CPU p50 ms':>10} {'CPU p95 ms':>10} {'calls/req':>10} {'x hello':>8}")
    for name, r in {"hello-world Flask": hello, **results}.items():
        print(
            f"{name:<22} {r['p50']:10.2f} {r['p95']:10.2f} {r['calls']:10.0f} "
            f"{r['p50'] / hello['p50']:8.1f}"
        )
    print(f"load average {os.getloadavg()[0]:.1f}")
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        for name, r in {"hello": hello, **results}.items():
            slug = re.sub(r"[^a-z]+", "-", name).strip("-")
            r["stats"].dump_stats(args.profile / f"{slug}.prof")
        print(f"profiles written to {args.profile}")


if __name__ == "__main__":
    main()
