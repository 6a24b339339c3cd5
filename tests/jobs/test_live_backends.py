"""The engines for real: the in-process threads of start-demo, and RQ on Redis with the
`flask jobs worker` and `flask jobs scheduler` processes (bounded; they stop themselves)."""

from __future__ import annotations

import time

import pytest
import sqlalchemy as sa

from app import jobs
from app.extensions import db
from app.jobs.backends import ThreadBackend
from app.orgs.models import OrgUnit
from tests.conftest import reset_schema
from tests.jobs.redis_support import drop_queue, flask_jobs, require_redis, rq_settings
from tests.live import own_app

ADD = "tests.jobs.jobfuncs:add_unit"


def _has_unit(app, code: str) -> bool:
    with app.app_context():
        found = db.session.scalar(sa.select(OrgUnit.id).where(OrgUnit.code == code))
        db.session.remove()
        return found is not None


def _forget(app) -> None:
    """On PostgreSQL own_app uses the suite's database: leave it empty for the tests after."""
    reset_schema(app)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _wait_for(predicate, seconds: float = 15) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.real_db
def test_in_process_threads_run_jobs_after_commit_and_tick_periodic_ones(tmp_path):
    app = own_app(tmp_path, JOBS_BACKEND="thread")
    backend = app.extensions["jobs"]
    assert isinstance(backend, ThreadBackend)
    try:
        with app.app_context():
            db.session.execute(sa.select(1))
            jobs.enqueue(ADD, "JOBT1")
            db.session.commit()
        assert _wait_for(lambda: _has_unit(app, "JOBT1"))
        backend.start_scheduler()
        # Every periodic job runs once at start: the session clean-up among them.
        expected = 1 + len(jobs.periodic_jobs())
        assert _wait_for(lambda: backend.ran >= expected)
    finally:
        backend.stop()
        _forget(app)


@pytest.mark.real_db
@pytest.mark.redis
def test_rq_worker_runs_queued_jobs_once(tmp_path):
    require_redis()
    app = own_app(tmp_path, **rq_settings(tmp_path))
    try:
        with app.app_context():
            jobs.enqueue(ADD, "JOBR1")  # no transaction open: straight to Redis
            db.session.execute(sa.select(1))
            jobs.enqueue(ADD, "JOBR2")
            db.session.rollback()  # dropped with its transaction
            db.session.remove()
        done = flask_jobs(app, "worker", "--burst")
        assert done.returncode == 0, done.stderr[-2000:]
        assert _has_unit(app, "JOBR1")
        assert not _has_unit(app, "JOBR2")
        with app.app_context():
            assert app.extensions["jobs"].queue().count == 0
    finally:
        drop_queue(app)
        _forget(app)


@pytest.mark.real_db
@pytest.mark.redis
def test_rq_scheduler_enqueues_every_periodic_job_and_the_worker_runs_them(tmp_path):
    require_redis()
    app = own_app(tmp_path, **rq_settings(tmp_path))
    try:
        ticked = flask_jobs(app, "scheduler", "--max-seconds", "3")
        assert ticked.returncode == 0, ticked.stderr[-2000:]
        with app.app_context():
            queue = app.extensions["jobs"].queue()
            assert queue.count >= len(jobs.periodic_jobs())
        done = flask_jobs(app, "worker", "--burst")
        assert done.returncode == 0, done.stderr[-2000:]
        with app.app_context():
            from rq.registry import FailedJobRegistry

            assert queue.count == 0
            assert FailedJobRegistry(queue=queue).count == 0
    finally:
        drop_queue(app)
        _forget(app)
