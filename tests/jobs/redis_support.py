"""Real Redis and real `flask jobs` processes for the tests marked `redis`."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

REDIS_URL = os.environ.get("CAUNOI_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
ROOT = Path(__file__).resolve().parents[2]


def require_redis() -> None:
    """Skip with the reason locally; fail under CI=true (CI starts Redis)."""
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except RedisError as exc:
        reason = f"Redis does not answer at {REDIS_URL} ({type(exc).__name__})"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)


def rq_settings(tmp_path) -> dict:
    """Config overrides for an own_app on a queue of its own."""
    return {
        "JOBS_BACKEND": "rq",
        "JOBS_REDIS_URL": REDIS_URL,
        "JOBS_QUEUE": f"caunoi-test-{uuid.uuid4().hex[:8]}",
    }


def flask_jobs(app, *args: str, timeout: float = 180, **env) -> subprocess.CompletedProcess:
    """Run `flask --app app jobs ARGS` in a process of its own against `app`'s database/queue.

    Bounded: a process still running after `timeout` seconds is killed and the test fails
    with what it printed (a loaded CI machine takes ~10 s just to start one)."""
    try:
        return subprocess.run(  # noqa: S603
            flask_command(app, "jobs", *args),
            cwd=ROOT,
            env=process_env(app, **env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = (exc.stderr or b"")[-3000:]
        pytest.fail(f"`flask jobs {' '.join(args)}` still running after {timeout}s: {output!r}")


def flask_command(app, *args: str) -> list[str]:
    return [sys.executable, "-m", "flask", "--app", "app", *args]


def process_env(app, **overrides) -> dict:
    """The environment of a `flask` process that works on `app`'s database and queue."""
    env = {
        **os.environ,
        "CAUNOI_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "CAUNOI_KEY_FILE": app.config["CAUNOI_KEY_FILE"],
        "CAUNOI_INSTANCE_PATH": app.instance_path,
        "SECRET_KEY": "test-secret-key-for-a-job-process-0123456789",
        "PYTHONPATH": str(ROOT),
    }
    if app.config.get("JOBS_BACKEND") == "rq":
        env["JOBS_BACKEND"] = "rq"
        env["JOBS_REDIS_URL"] = app.config["JOBS_REDIS_URL"]
        env["JOBS_QUEUE"] = app.config["JOBS_QUEUE"]
    env.update({k: str(v) for k, v in overrides.items()})
    return env


def drop_queue(app) -> None:
    from rq import Queue
    from rq.registry import FailedJobRegistry

    backend = app.extensions["jobs"]
    queue = Queue(app.config["JOBS_QUEUE"], connection=backend.connection)
    for job_id in FailedJobRegistry(queue=queue).get_job_ids():
        FailedJobRegistry(queue=queue).remove(job_id, delete_job=True)
    queue.empty()
    queue.delete(delete_jobs=True)
