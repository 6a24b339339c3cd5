"""Requests per second under gunicorn, measured with wrk beside a hello-world app in one run.

The issue's method (#14): gunicorn with 2 workers, `wrk -t2 -c16`, the same machine. wrk is a
C load generator (Debian package `wrk`): a Python client would eat one of the two cores and cap
hello-world at its own speed, flattering every ratio. Each page is hammered signed in as the
user who would open it; a page that answers anything but 200 fails the run, so a ratio never
hides a redirect to the sign-in page, a 404 or a 503.
"""

from __future__ import annotations

import http.client
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import cases as casebench  # benchmarks/cases.py: gunicorn, free_port, wait_for, HELLO

WRK = shutil.which("wrk")


@dataclass(frozen=True)
class Page:
    name: str
    path: str
    user: str
    form: dict | None = None  # a POST body (the CSRF token is added)


def _sign_in(port: int, user: str) -> tuple[str, str]:
    """The session cookie and a CSRF token of that session."""
    cookie = casebench.sign_in(port, user)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/cases/", headers={"Cookie": cookie})  # its search form's token
    response = conn.getresponse()
    page = response.read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    if response.getheader("Set-Cookie"):  # the session now holds the CSRF secret
        cookie = response.getheader("Set-Cookie").split(";")[0]
    return cookie, token.group(1) if token else ""


def _check(port: int, page: Page, cookie: str, token: str) -> None:
    """One request first: it must answer 200 (wrk only counts)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Cookie": cookie}
    if page.form is None:
        conn.request("GET", page.path, headers=headers)
    else:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(page.form | {"csrf_token": token})
        conn.request("POST", page.path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    if response.status != 200:
        raise RuntimeError(f"{page.name} ({page.path}) answered {response.status}")


def wrk(port: int, path: str, seconds: float, connections: int, script: str = "") -> float:
    """Requests per second; any non-2xx answer or socket error fails."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        out = subprocess.run(
            [WRK, "-t2", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "30s", "-s", lua.name,
             f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
    if "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"{path}: wrk saw errors\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def _lua(cookie: str, form: str | None) -> str:
    lines = [f'wrk.headers["Cookie"] = "{cookie}"']
    if form is not None:
        lines += [
            'wrk.method = "POST"',
            f'wrk.body = "{form}"',
            'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"',
        ]
    return "\n".join(lines) + "\n"


def hello_rps(seconds: float, connections: int) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "hello.py").write_text(casebench.HELLO)
        port = casebench.free_port()
        server = casebench.gunicorn("hello:app", port, {"PYTHONPATH": tmp}, Path(tmp))
        try:
            casebench.wait_for(port, "/")
            wrk(port, "/", 1, connections)
            return wrk(port, "/", seconds, connections)
        finally:
            server.terminate()
            server.wait(timeout=10)


def page_rps(
    directory: Path,
    pages: list[Page],
    seconds: float,
    connections: int,
    *,
    target: str = "app.wsgi:app",
    env: dict | None = None,
) -> dict[str, float]:
    """Each page's requests per second under gunicorn (2 workers) on the data set; `target`
    and `env` (added to the data set's) for another app than the real one (list_ablation)."""
    if WRK is None:
        raise SystemExit("wrk is missing: apt-get install wrk")
    port = casebench.free_port()
    server_env = casebench.env_for(directory) | (env or {})
    server = casebench.gunicorn(target, port, server_env, casebench.ROOT)
    out = {}
    try:
        casebench.wait_for(port, timeout=120)
        sessions = {u: _sign_in(port, u) for u in {p.user for p in pages}}
        for page in pages:
            cookie, token = sessions[page.user]
            try:
                _check(port, page, cookie, token)
            except RuntimeError as failed:  # reported, and the other pages still measured
                print(failed, flush=True)
                out[page.name] = float("nan")
                continue
            form = urlencode(page.form | {"csrf_token": token}) if page.form else None
            script = _lua(cookie, form)
            wrk(port, page.path, 1, connections, script)
            # wrk leaves its connections' requests behind when it stops: on a page of 150 ms,
            # seconds of them that the next run would wait out uncounted (the dashboards read
            # 3 requests a second where 12 were served). One more request, queued behind them,
            # answers once they are done.
            _check(port, page, cookie, token)
            out[page.name] = wrk(port, page.path, seconds, connections, script)
            _check(port, page, cookie, token)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return out
