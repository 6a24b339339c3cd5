"""Cases benchmark on 100,000 demo cases (SQLite file).

    .venv/bin/python benchmarks/cases.py [--cases 100000] [--dir /tmp/caunoi-bench-cases]
                                         [--seconds 10] [--clients 8] [--database-url URL]

Without --database-url the data set is a SQLite file in --dir; with it (e.g.
postgresql+psycopg://postgres@127.0.0.1:5432/caunoi_cases_bench, an existing empty database) the
cases go there, and --dir keeps the key file and the "built" marker (use a separate --dir).

1. Search through the search tokens, in-process: by full name, by the name without diacritics,
   by one word of the name and by case code; p50 / p95 (target p95 <= 10 ms).
2. The case list page (25 rows decrypted, audited) under gunicorn with 2 workers, requests per
   second, as a ratio to a hello-world Flask app measured the same way in the same run
   (target >= 0.25).

The data set is built once (`flask demo --cases N`) and reused while the directory exists.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
PASSWORD = "quartz-lantern-bench-7Kq-mossy"  # noqa: S105 (demo users of a throwaway database)

HELLO = """
from flask import Flask
app = Flask(__name__)

@app.get("/")
def hello():
    return "Hello, world!"
"""


DATABASE_URL: str | None = None  # --database-url; None: a SQLite file in the data set's directory


def env_for(directory: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CAUNOI_INSTANCE_PATH=str(directory),
        DATABASE_URL=DATABASE_URL or f"sqlite:///{directory}/bench.sqlite3",
        CAUNOI_KEY_FILE=str(directory / "keys.json"),
        LOG_LEVEL="WARNING",
        CAUNOI_ENV="development",
        PYTHONPATH=str(ROOT),
    )
    return env


def build(directory: Path, count: int) -> None:
    marker = directory / f"built-{count}"
    if marker.exists():
        print(f"reusing the data set in {directory}")
        return
    directory.mkdir(parents=True, exist_ok=True)
    env = env_for(directory)
    flask = [str(VENV_BIN / "flask"), "--app", "app"]
    if not (directory / "keys.json").exists():
        subprocess.run([*flask, "keys", "init"], env=env, cwd=ROOT, check=True)
    code = "from app import create_app\nfrom app.extensions import db\napp = create_app()\n"
    code += "with app.app_context():\n    db.create_all()\n"
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    started = time.perf_counter()
    subprocess.run(
        [*flask, "demo", "--password", PASSWORD, "--cases", str(count)],
        env=env,
        cwd=ROOT,
        check=True,
    )
    print(f"built {count} cases in {time.perf_counter() - started:.0f} s")
    if DATABASE_URL and not DATABASE_URL.startswith("sqlite"):
        # What autovacuum does soon after a bulk load on a live server: planner statistics and
        # the visibility map (index-only scans). Without them PostgreSQL plans the list badly.
        code = "import sqlalchemy as sa, os\n"
        code += (
            "engine = sa.create_engine(os.environ['DATABASE_URL'], isolation_level='AUTOCOMMIT')\n"
        )
        code += "with engine.connect() as c:\n    c.exec_driver_sql('VACUUM ANALYZE')\n"
        subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)
    marker.touch()


WARM_UP = 20  # untimed queries of each kind before the timed ones


def bench_search(directory: Path, queries: int = 300) -> dict:
    """Search terms taken from `queries` random cases: the full name as written, the full name
    without diacritics, one word of the name (with and without diacritics) and the case code.
    Every query goes through the search tokens (candidates by truncated tag, confirmed by the
    row-bound proof); the timing includes loading the matching cases."""
    for key, value in env_for(directory).items():
        os.environ[key] = value
    sys.path.insert(0, str(ROOT))
    import sqlalchemy as sa

    from app import create_app
    from app.cases import queries as q
    from app.cases.fields import read_field
    from app.cases.models import Case
    from app.crypto.blind_index import fold_diacritics
    from app.extensions import db
    from app.orgs.models import User
    from app.permissions import Actor

    app = create_app()
    rng = random.Random(1)
    with app.app_context():
        user = db.session.execute(sa.select(User).where(User.username == "caseworker")).scalar()
        actor = Actor.from_user(user)
        total = db.session.execute(sa.select(sa.func.count()).select_from(Case)).scalar()
        ids = rng.sample(range(1, total + 1), queries + WARM_UP)
        terms: dict[str, list[str]] = {"name": [], "folded": [], "word": [], "code": []}
        for case in db.session.execute(sa.select(Case).where(Case.id.in_(ids))).scalars():
            name = read_field(case, "full_name")
            word = rng.choice(name.split())
            terms["name"].append(name)
            terms["folded"].append(fold_diacritics(name))
            terms["word"].append(word if rng.random() < 0.5 else fold_diacritics(word))
            terms["code"].append(case.code)
    timings: dict[str, list[float]] = {kind: [] for kind in terms}
    cpu: dict[str, list[float]] = {kind: [] for kind in terms}
    found = 0
    with app.test_request_context():
        # Untimed first: a worker that has served requests (statements compiled, the tags'
        # counts known, the file's pages in memory), as app/web/warmup.py leaves one.
        for values in terms.values():
            for term in values[:WARM_UP]:
                q.search_cases(actor, term)
        for kind, values in terms.items():
            for term in values[WARM_UP:]:  # other cases than the warm-up's
                db.session.expunge_all()  # no identity-map help between queries
                t0, c0 = time.perf_counter(), time.process_time()
                rows = q.search_cases(actor, term)
                timings[kind].append((time.perf_counter() - t0) * 1000)
                # CPU time of this process (SQLite runs in it): what the query costs when
                # other work on the machine makes wall time wait for a core.
                cpu[kind].append((time.process_time() - c0) * 1000)
                found += bool(rows)
    every = sorted(t for values in timings.values() for t in values)
    every_cpu = sorted(t for values in cpu.values() for t in values)
    return {
        "cases": total,
        "queries": len(every),
        "p50_ms": statistics.median(every),
        "p95_ms": _p95(every),
        "cpu_p50_ms": statistics.median(every_cpu),
        "cpu_p95_ms": _p95(every_cpu),
        "with_results": found,
        "by_kind": {
            kind: (statistics.median(v), _p95(sorted(v)), _p95(sorted(cpu[kind])))
            for kind, v in timings.items()
        },
    }


def _p95(sorted_values: list[float]) -> float:
    return sorted_values[max(0, int(len(sorted_values) * 0.95) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, path: str = "/health", timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", path)
            conn.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server on {port} did not start")


def gunicorn(target: str, port: int, env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [
            str(VENV_BIN / "gunicorn"),
            "-w",
            "2",
            "-b",
            f"127.0.0.1:{port}",
            "--log-level",
            "warning",
            target,
        ],
        env=env,
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def sign_in(port: int, user: str = "caseworker") -> str:
    """The session cookie of `user` signed in through the real form."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/auth/sign-in")
    response = conn.getresponse()
    page = response.read().decode()
    cookie = response.getheader("Set-Cookie").split(";")[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    body = urlencode({"csrf_token": token, "username": user, "password": PASSWORD})
    conn.request(
        "POST",
        "/auth/sign-in",
        body=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        raise RuntimeError(f"sign-in failed: {response.status}")
    return response.getheader("Set-Cookie").split(";")[0]


def hammer(
    port: int,
    path: str,
    seconds: float,
    clients: int,
    cookie: str | None,
    expect: bytes | None = None,
) -> float:
    stop = time.perf_counter() + seconds
    counts = [0] * clients
    errors = []

    def worker(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        headers = {"Cookie": cookie} if cookie else {}
        while time.perf_counter() < stop:
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            if response.status != 200 or (expect and expect not in body):
                errors.append(response.status)
                return
            counts[i] += 1

    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError(f"{path}: unexpected responses {errors[:3]}")
    return sum(counts) / (time.perf_counter() - started)


def bench_pages(directory: Path, seconds: float, clients: int) -> dict:
    env = env_for(directory)
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hello.py").write_text(HELLO)
        port = free_port()
        server = gunicorn("hello:app", port, env | {"PYTHONPATH": tmp}, Path(tmp))
        try:
            wait_for(port, "/")
            hammer(port, "/", 1, clients, None)
            hello_rps = hammer(port, "/", seconds, clients, None)
        finally:
            server.terminate()
            server.wait(timeout=10)
    port = free_port()
    server = gunicorn("app.wsgi:app", port, env, ROOT)
    try:
        wait_for(port)
        cookie = sign_in(port)
        expect = b'href="/cases/NB-'
        hammer(port, "/cases/", 1, clients, cookie, expect)
        list_rps = hammer(port, "/cases/", seconds, clients, cookie, expect)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {"hello_rps": hello_rps, "list_rps": list_rps, "ratio": list_rps / hello_rps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/caunoi-bench-cases"))
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--skip-search", action="store_true", help="only the case list page")
    args = parser.parse_args()
    global DATABASE_URL
    DATABASE_URL = args.database_url
    build(args.dir, args.cases)
    if not args.skip_search:
        report_search(args.dir)
    pages = bench_pages(args.dir, args.seconds, args.clients)
    print(
        f"hello world: {pages['hello_rps']:.0f} req/s; case list (25 rows decrypted): "
        f"{pages['list_rps']:.0f} req/s; ratio {pages['ratio']:.2f} (target >= 0.25); "
        f"gunicorn -w 2, {args.clients} client threads, {args.seconds:.0f} s each"
    )


def report_search(directory: Path) -> None:
    search = bench_search(directory)
    print(
        f"search on {search['cases']} cases, {search['queries']} queries "
        f"({search['with_results']} with results): p50 {search['p50_ms']:.2f} ms, "
        f"p95 {search['p95_ms']:.2f} ms (target p95 <= 10 ms); load average "
        f"{os.getloadavg()[0]:.1f}"
    )
    print(
        f"  process CPU time per query: p50 {search['cpu_p50_ms']:.2f} ms, "
        f"p95 {search['cpu_p95_ms']:.2f} ms"
    )
    for kind, (p50, p95, cpu95) in search["by_kind"].items():
        print(f"  {kind:7s} p50 {p50:.2f} ms, p95 {p95:.2f} ms (CPU p95 {cpu95:.2f} ms)")


if __name__ == "__main__":
    main()
