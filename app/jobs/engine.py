"""Choosing the backend, and the after-commit hand-over of queued jobs."""

from __future__ import annotations

from datetime import datetime

from flask import Flask, current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db
from app.jobs.backends import Job, MemoryBackend, RQBackend, ThreadBackend
from app.jobs.registry import every, periodic_jobs, resolve

__all__ = ["backend", "drain", "enqueue", "every", "init_app", "periodic_jobs", "schedule"]

_PENDING = "caunoi_jobs_pending"


def init_app(app: Flask) -> None:
    """Pick the backend from the configuration (see the package docstring)."""
    choice = app.config.get("JOBS_BACKEND", "auto")
    url = app.config.get("JOBS_REDIS_URL")
    if choice == "auto":
        choice = "rq" if url else "thread"
    if choice == "rq":
        if not url:
            raise RuntimeError("JOBS_BACKEND=rq needs JOBS_REDIS_URL")
        chosen = RQBackend(url, app.config.get("JOBS_QUEUE", "caunoi"))
    elif choice == "thread":
        chosen = ThreadBackend(app)
    elif choice == "memory":
        chosen = MemoryBackend()
    else:
        raise RuntimeError(f"unknown JOBS_BACKEND {choice!r} (rq, thread or memory)")
    app.extensions["jobs"] = chosen


def backend():
    return current_app.extensions["jobs"]


def enqueue(func_path: str, *args, job_id: str | None = None, **kwargs) -> None:
    """Run `func_path(*args, **kwargs)` in the background once the current transaction commits
    (immediately when no transaction is open); a rollback drops it."""
    resolve(func_path)
    _hand_over(Job(func_path, tuple(args), kwargs, job_id))


def schedule(func_path: str, *args, at: datetime, job_id: str | None = None, **kwargs) -> None:
    """Run `func_path(*args, **kwargs)` once, not before `at` (aware datetime), after commit."""
    if at.tzinfo is None:
        raise ValueError("schedule() needs an aware datetime")
    resolve(func_path)
    _hand_over(Job(func_path, tuple(args), kwargs, job_id, at))


def drain(now: datetime | None = None, limit: int = 1000) -> int:
    """Tests: run the jobs waiting in the memory backend (due by `now`); returns how many."""
    chosen = backend()
    if not isinstance(chosen, MemoryBackend):
        raise RuntimeError("drain() is for the memory backend (tests)")
    return chosen.drain(now, limit)


def _hand_over(job: Job) -> None:
    session = db.session()
    if session.in_transaction():
        pending = session.info.setdefault(_PENDING, [])
        pending.append((backend(), job))
    else:
        backend().submit(job)


@event.listens_for(Session, "after_commit")
def _submit_pending(session: Session) -> None:
    for chosen, job in session.info.pop(_PENDING, []):
        chosen.submit(job)


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    session.info.pop(_PENDING, None)
