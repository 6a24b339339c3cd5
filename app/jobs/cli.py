"""`flask jobs ...`: the RQ worker and scheduler, and running a periodic job by hand."""

from __future__ import annotations

import time

import click
from flask import current_app
from flask.cli import with_appcontext

from app.jobs.backends import RQBackend
from app.jobs.registry import periodic_jobs
from app.jobs.runner import run_here, run_job


@click.group("jobs")
def jobs_cli():
    """Background and scheduled jobs (RQ on Redis; see README)."""


def _rq_backend() -> RQBackend:
    chosen = current_app.extensions["jobs"]
    if not isinstance(chosen, RQBackend):
        raise click.ClickException(
            "JOBS_REDIS_URL is not set: jobs run inside the app (start-demo), no worker needed"
        )
    return chosen


@jobs_cli.command("worker")
@click.option("--burst", is_flag=True, help="Stop when the queue is empty.")
@click.option("--max-idle", type=int, default=None, help="Stop after this many idle seconds.")
@with_appcontext
def worker_command(burst: bool, max_idle: int | None):
    """Run queued jobs (RQ SimpleWorker: jobs run in this process, one after the other)."""
    from rq import SimpleWorker

    chosen = _rq_backend()
    # SimpleWorker, not the forking Worker: a forked job would share this process's database
    # connections. Work that must survive a crash lives in the database, not in the job.
    worker = SimpleWorker([chosen.queue()], connection=chosen.connection)
    worker.work(burst=burst, max_idle_time=max_idle, with_scheduler=True)


@jobs_cli.command("scheduler")
@click.option("--max-seconds", type=int, default=None, help="Stop after this many seconds.")
@with_appcontext
def scheduler_command(max_seconds: int | None):
    """Enqueue the periodic jobs when due (RQ's CronScheduler; start exactly one)."""
    from rq.cron import CronScheduler

    chosen = _rq_backend()
    cron = CronScheduler(connection=chosen.connection)
    for p in periodic_jobs():
        cron.register(
            run_job,
            chosen.queue_name,
            args=(p.func_path, list(p.args), {}),
            interval=p.seconds,
            name=p.name,
        )
    deadline = None if max_seconds is None else time.monotonic() + max_seconds
    click.echo(f"scheduler: {len(periodic_jobs())} periodic job(s) on queue {chosen.queue_name}")
    cron.register_birth()
    try:
        while deadline is None or time.monotonic() < deadline:
            if cron.enqueue_jobs():
                cron.save()
            cron.heartbeat()
            time.sleep(max(0.2, min(cron.calculate_sleep_interval(), 5.0)))
    except KeyboardInterrupt:
        pass
    finally:
        cron.register_death()


@jobs_cli.command("list")
@with_appcontext
def list_command():
    """The periodic jobs and their intervals."""
    for p in periodic_jobs():
        click.echo(f"{p.name}\tevery {p.seconds}s\t{p.func_path}")


@jobs_cli.command("run")
@click.argument("name")
@with_appcontext
def run_command(name: str):
    """Run one periodic job now, in this process (one transaction)."""
    found = {p.name: p for p in periodic_jobs()}
    if name not in found:
        raise click.ClickException(f"no periodic job {name!r}; see `flask jobs list`")
    result = run_here(found[name].func_path, found[name].args)
    click.echo(f"{name}: {result!r}")


commands = [jobs_cli]
