"""The job engine: background and scheduled work, on RQ (Redis) or in-process.

Why RQ and not Celery: Redis is already the one shared service a deployment runs (sign-in
throttling), RQ needs nothing else (no broker choice, no result backend, no kombu/billiard),
its worker and its scheduler (`rq.cron.CronScheduler`) are small enough to read, and our jobs
are few and short. Durability does not depend on the queue: work that must not be lost (the
notification outbox, an import) is a database row first, and a job only says "do it now";
the periodic jobs pick up whatever a lost job left behind.

The interface other modules use (and nothing else of this package):

    from app import jobs
    jobs.enqueue("app.cases.importer:run_import", import_id)   # after this transaction commits
    jobs.schedule("app.x.tasks:remind", case_id, at=when)       # once, at a UTC datetime
    jobs.every("audit-checkpoint", "app.audit.tasks:checkpoint", minutes=60)   # periodic

A job is a plain function named "package.module:function", taking JSON-able arguments. It runs
inside an application context; the runner commits after it returns and rolls back if it raises,
so a job is one transaction like a request. Periodic jobs are declared in `app/<module>/tasks.py`
(imported by `create_app`) and must be idempotent: they run again after a crash, and twice if
two schedulers were ever started.

Backends (config `JOBS_BACKEND`, default "auto"):
- "rq": `JOBS_REDIS_URL` set; `flask jobs worker` and `flask jobs scheduler` run them;
- "thread": in-process worker and scheduler threads, for `start-demo` (SQLite, no Redis);
- "memory": tests; jobs wait until `jobs.drain()` runs them in the caller's context.
"""

from app.jobs.engine import backend, drain, enqueue, every, periodic_jobs, schedule

__all__ = ["backend", "drain", "enqueue", "every", "periodic_jobs", "schedule"]
