"""The job engine's contract: after commit, one transaction per job, periodic jobs declared."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app import jobs
from app.extensions import db
from app.jobs.backends import MemoryBackend
from app.jobs.registry import resolve
from app.orgs.models import OrgUnit

ADD = "tests.jobs.jobfuncs:add_unit"


def _codes() -> set[str]:
    return set(db.session.scalars(sa.select(OrgUnit.code).where(OrgUnit.code.like("JOB%"))))


def test_tests_use_the_memory_backend(app):
    with app.app_context():
        assert isinstance(jobs.backend(), MemoryBackend)


def test_a_job_enqueued_in_a_transaction_waits_for_its_commit(db):
    jobs.backend().jobs.clear()
    db.session.execute(sa.select(1))  # a transaction is open
    jobs.enqueue(ADD, "JOB1")
    assert jobs.backend().jobs == []  # not before the commit
    db.session.commit()
    assert [j.args for j in jobs.backend().jobs] == [("JOB1",)]
    assert jobs.drain() == 1
    assert _codes() == {"JOB1"}


def test_a_rollback_drops_the_jobs_it_enqueued(db):
    jobs.backend().jobs.clear()
    db.session.execute(sa.select(1))
    jobs.enqueue(ADD, "JOB2")
    db.session.rollback()
    db.session.commit()
    assert jobs.backend().jobs == []
    assert jobs.drain() == 0


def test_a_failing_job_changes_nothing(db):
    jobs.backend().jobs.clear()
    jobs.enqueue("tests.jobs.jobfuncs:fail", "JOB3")
    with pytest.raises(RuntimeError):
        jobs.drain()
    assert _codes() == set()


def test_a_scheduled_job_waits_for_its_time(db):
    jobs.backend().jobs.clear()
    at = datetime.now(UTC) + timedelta(hours=1)
    jobs.schedule(ADD, "JOB4", at=at)
    assert jobs.drain() == 0
    assert jobs.drain(now=at) == 1
    assert _codes() == {"JOB4"}


def test_schedule_refuses_a_naive_datetime(db):
    with pytest.raises(ValueError):
        jobs.schedule(ADD, "JOB5", at=datetime(2026, 1, 1))  # noqa: DTZ001


def test_one_pending_job_per_id(db):
    jobs.backend().jobs.clear()
    jobs.enqueue(ADD, "JOB6", job_id="same")
    jobs.enqueue(ADD, "JOB7", job_id="same")
    assert jobs.drain() == 1
    assert _codes() == {"JOB6"}


@pytest.mark.parametrize(
    "path", ["os:system", "app.jobs.registry", "app.jobs.registry:nothing", "subprocess:run"]
)
def test_only_our_own_functions_can_be_jobs(path):
    with pytest.raises((ValueError, ModuleNotFoundError)):
        resolve(path)


def test_periodic_jobs_are_declared_by_the_modules(app):
    names = {p.name for p in jobs.periodic_jobs()}
    assert "auth-end-expired-sessions" in names
    for p in jobs.periodic_jobs():
        resolve(p.func_path)
        assert p.seconds >= 60


def test_every_refuses_a_zero_interval():
    with pytest.raises(ValueError):
        jobs.every("never", ADD, "X")


def test_flask_jobs_list_and_run(app, db, world):
    runner = app.test_cli_runner()
    listed = runner.invoke(args=["jobs", "list"])
    assert "auth-end-expired-sessions" in listed.output
    ran = runner.invoke(args=["jobs", "run", "auth-end-expired-sessions"])
    assert ran.exit_code == 0, ran.output
    missing = runner.invoke(args=["jobs", "run", "no-such-job"])
    assert missing.exit_code != 0
    worker = runner.invoke(args=["jobs", "worker", "--burst"])
    assert worker.exit_code != 0 and "JOBS_REDIS_URL is not set" in worker.output
