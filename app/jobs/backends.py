"""Where queued jobs wait: Redis (RQ), an in-process thread, or a list (tests)."""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

from flask import Flask

from app.jobs.registry import periodic_jobs
from app.jobs.runner import run_here, run_job

log = logging.getLogger(__name__)


@dataclass
class Job:
    func_path: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    job_id: str | None = None
    at: datetime | None = None  # not before (UTC)


class MemoryBackend:
    """Tests: jobs wait in a list until `drain()` runs the due ones in the caller's session."""

    name = "memory"

    def __init__(self) -> None:
        self.jobs: list[Job] = []

    def submit(self, job: Job) -> None:
        if job.job_id and any(j.job_id == job.job_id for j in self.jobs):
            return  # one pending job per id, as RQ keeps one job per id
        self.jobs.append(job)

    def drain(self, now: datetime | None = None, limit: int = 1000) -> int:
        now = now or datetime.now(UTC)
        ran = 0
        while ran < limit:
            due = next((j for j in self.jobs if j.at is None or j.at <= now), None)
            if due is None:
                break
            self.jobs.remove(due)
            run_here(due.func_path, due.args, due.kwargs)
            ran += 1
        return ran


class ThreadBackend:
    """`start-demo`: one worker thread runs jobs in order, one scheduler thread ticks the
    periodic jobs. Nothing survives a restart, and nothing needs to: the periodic jobs find
    every outbox row and every due date again."""

    name = "thread"

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.queue: queue.Queue[Job] = queue.Queue()
        self.stopping = threading.Event()
        self.worker: threading.Thread | None = None
        self.scheduler: threading.Thread | None = None
        self.lock = threading.Lock()
        self.ran = 0  # jobs finished (or failed) since start: for tests and the logs

    def submit(self, job: Job) -> None:
        self._ensure_worker()
        if job.at is not None and job.at > datetime.now(UTC):
            delay = (job.at - datetime.now(UTC)).total_seconds()
            timer = threading.Timer(delay, self.queue.put, args=(Job(job.func_path, job.args),))
            timer.daemon = True
            timer.start()
            return
        self.queue.put(job)

    def _ensure_worker(self) -> None:
        with self.lock:
            if self.worker is None or not self.worker.is_alive():
                self.worker = threading.Thread(target=self._work, name="jobs-worker", daemon=True)
                self.worker.start()

    def _work(self) -> None:
        while not self.stopping.is_set():
            try:
                job = self.queue.get(timeout=0.5)
            except queue.Empty:
                continue
            with self.app.app_context():
                try:
                    run_job(job.func_path, job.args, job.kwargs)
                except Exception:  # noqa: S110  (logged by run_job; the worker goes on)
                    pass
                finally:
                    self.ran += 1
                    self.queue.task_done()

    def start_scheduler(self) -> None:
        """Tick the periodic jobs from now on (each runs once at start, then every interval)."""
        self._ensure_worker()
        with self.lock:
            if self.scheduler is None or not self.scheduler.is_alive():
                self.scheduler = threading.Thread(
                    target=self._schedule, name="jobs-scheduler", daemon=True
                )
                self.scheduler.start()

    def _schedule(self) -> None:
        next_run = {p.name: 0.0 for p in periodic_jobs()}
        while not self.stopping.is_set():
            now = time.monotonic()
            for p in periodic_jobs():
                if now >= next_run.get(p.name, 0.0):
                    next_run[p.name] = now + p.seconds
                    self.queue.put(Job(p.func_path, p.args))
            self.stopping.wait(1.0)

    def stop(self) -> None:
        self.stopping.set()


class RQBackend:
    """Production: RQ queues in Redis; `flask jobs worker` and `flask jobs scheduler` serve them."""

    name = "rq"

    def __init__(self, url: str, queue_name: str) -> None:
        from redis import Redis

        self.connection = Redis.from_url(url)
        self.queue_name = queue_name

    def queue(self):
        from rq import Queue

        return Queue(self.queue_name, connection=self.connection)

    def submit(self, job: Job) -> None:
        from rq import Retry

        options = {
            "job_id": job.job_id,
            "retry": Retry(max=3, interval=[10, 60, 300]),
            "result_ttl": 600,
            "failure_ttl": 7 * 24 * 3600,
        }
        args = (job.func_path, list(job.args), job.kwargs)
        if job.at is not None:
            self.queue().enqueue_at(job.at, run_job, *args, **options)
        else:
            self.queue().enqueue(run_job, *args, **options)
