"""`start-demo` on a busy port and the start-up output (issue #13, point 8)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

FLASK = str(Path(sys.executable).with_name("flask"))


def _run(tmp_path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "CAUNOI_INSTANCE_PATH": str(tmp_path), "CAUNOI_ENV": "development"}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [FLASK, "--app", "app", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_busy_port_says_so_in_one_line_naming_port(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = _run(tmp_path, "start-demo", "--port", str(port))
    assert result.returncode != 0
    assert result.stdout == ""  # no address, no password printed before failing
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "--port" in lines[0] and str(port) in lines[0]
    assert "Traceback" not in result.stderr


def test_migrating_prints_no_alembic_info_lines(tmp_path):
    result = _run(tmp_path, "db", "upgrade")
    assert result.returncode == 0, result.stderr
    assert "INFO" not in result.stderr
    assert "alembic" not in result.stderr
    assert (tmp_path / "caunoi.sqlite3").exists()
