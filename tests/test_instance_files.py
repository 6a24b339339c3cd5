"""Every file the app creates under instance/ is 0600 and the folder 0700 (issue 16, point 7).

A subprocess with the usual umask 022 starts the development app on a fresh instance folder:
it generates the secret key, creates the key set and the SQLite database, writes to it, and
lists the modes while a connection is open, so the WAL and shared-memory files exist too.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import json, os, sys
os.umask(0o022)
from app import create_app
from app.extensions import db
from app.private_files import open_private

app = create_app()
with app.app_context():
    assert app.test_cli_runner().invoke(args=["keys", "init"]).exit_code == 0
    db.create_all()
    with db.engine.connect() as conn:
        conn.exec_driver_sql("CREATE TABLE mode_probe (x INTEGER)")
        conn.exec_driver_sql("INSERT INTO mode_probe VALUES (1)")
        conn.commit()
        with open_private(os.path.join(app.instance_path, "export.csv")) as f:
            f.write("a,b\n")
        modes = {}
        for root, dirs, files in os.walk(app.instance_path):
            for name in dirs + files:
                path = os.path.join(root, name)
                modes[os.path.relpath(path, app.instance_path)] = os.stat(path).st_mode
        modes["."] = os.stat(app.instance_path).st_mode
print(json.dumps(modes))
"""


def _run(instance: Path) -> dict[str, int]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SECRET_KEY", "CAUNOI_KEY_FILE", "CAUNOI_KEYS"}
    }
    env.update(CAUNOI_ENV="development", CAUNOI_INSTANCE_PATH=str(instance))
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check(modes: dict[str, int]) -> None:
    for name in ("caunoi.sqlite3", "caunoi.sqlite3-wal", "caunoi.sqlite3-shm", "keys.json"):
        assert name in modes, sorted(modes)
    assert "secret_key" in modes and "export.csv" in modes
    wrong = {
        name: oct(stat.S_IMODE(mode))
        for name, mode in modes.items()
        if stat.S_IMODE(mode) != (0o700 if stat.S_ISDIR(mode) else 0o600)
    }
    assert wrong == {}
    assert stat.S_ISDIR(modes["."])


def test_fresh_instance_is_private(tmp_path):
    _check(_run(tmp_path / "instance"))


@pytest.mark.parametrize("old_mode", [0o644, 0o666])
def test_database_left_open_by_an_earlier_version_is_tightened(tmp_path, old_mode):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    os.chmod(instance, 0o755)  # noqa: S103 (an earlier version's folder, on purpose)
    db_file = instance / "caunoi.sqlite3"
    db_file.touch()
    os.chmod(db_file, old_mode)
    _check(_run(instance))
