"""`flask demo` and `flask start-demo`."""

from __future__ import annotations

import importlib
import secrets
import socket

import click
from flask import current_app
from flask.cli import with_appcontext

from app.i18n import i18n_cli

# Modules seed in this order; each app/<module>/demo.py has `seed(password: str) -> None`.
DEMO_MODULES = ("orgs", "cases", "referrals", "outreach", "reports", "training")


def _seeders():
    for module in DEMO_MODULES:
        try:
            mod = importlib.import_module(f"app.{module}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"app.{module}.demo":
                raise
            continue
        yield module, mod


@click.command("demo")
@click.option(
    "--password",
    envvar="CAUNOI_DEMO_PASSWORD",
    help="Password for every demo user "
    "(env CAUNOI_DEMO_PASSWORD); random and printed when omitted.",
)
@click.option(
    "--cases",
    "case_count",
    type=int,
    default=None,
    help="Build this many demo cases (e.g. 100000 for benchmarks).",
)
@with_appcontext
def demo_command(password: str | None, case_count: int | None):
    """Create the demo province, one user per role and each module's demo data (idempotent)."""
    from app.extensions import db

    if current_app.config.get("ENV_NAME") == "production":
        raise click.ClickException("the demo must never be seeded into a production database")
    printed = password is None
    password = password or secrets.token_urlsafe(12)
    for name, mod in _seeders():
        kwargs = {"case_count": case_count} if name == "cases" else {}
        mod.seed(password, **kwargs)
        db.session.commit()
    if printed:
        click.echo(
            "Demo users: admin, caseworker, volunteer, supervisor, auditor, partner — "
            f"password: {password}"
        )


@click.command("start-demo")
@click.option("--host", default="127.0.0.1")
@click.option("--port", default=5000, type=int)
@with_appcontext
def start_demo_command(host: str, port: int):
    """Compile catalogs, create keys, migrate, seed the demo on first run, and serve."""
    from flask_migrate import upgrade

    # Before anything is printed: a busy port would otherwise fail only after the welcome text.
    _check_port_free(host, port)

    from app.crypto.keyring import KeyringError, load_keyring
    from app.i18n import compile_catalogs

    compile_catalogs()
    try:
        load_keyring(current_app.config)
    except KeyringError:
        from app.crypto.cli import init_key_file

        init_key_file(current_app.config)
        click.echo("Created a key set in instance/keys.json (keep a copy apart from the database).")
    upgrade()
    marker = current_app.instance_path + "/demo-password.txt"
    try:
        with open(marker) as f:
            password = f.read().strip()
    except FileNotFoundError:
        password = secrets.token_urlsafe(12)
        ctx = click.get_current_context()
        ctx.invoke(demo_command, password=password)
        import os

        fd = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password)
    click.echo("")
    click.echo(f"Cầu Nối is running at http://{host}:{port}/")
    click.echo(
        f"Sign in as admin, caseworker, volunteer, supervisor or partner with password: {password}"
    )
    click.echo(f"(the password is kept in {marker})")
    # Without Redis the jobs (notification delivery, reminders, expiry) run in this process.
    from app.jobs.backends import ThreadBackend

    jobs_backend = current_app.extensions["jobs"]
    if isinstance(jobs_backend, ThreadBackend):
        jobs_backend.start_scheduler()
        click.echo("Background jobs run inside this process (set JOBS_REDIS_URL to use RQ).")
    # Flask ignores app.run() inside a `flask` command, so serve with Werkzeug directly.
    from werkzeug.serving import run_simple

    from app.web.warmup import warm_worker

    app = current_app._get_current_object()
    warm_worker(app)
    try:
        run_simple(host, port, app, threaded=True)
    except OSError as exc:  # taken between the check and now
        raise click.ClickException(_busy_port_message(host, port)) from exc


def _busy_port_message(host: str, port: int) -> str:
    return (
        f"port {port} on {host} is already in use: "
        f"start on another one with --port, e.g. `flask --app app start-demo --port {port + 1}`"
    )


def _check_port_free(host: str, port: int) -> None:
    """Fail in one line naming --port when another program listens on host:port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Same option as Werkzeug's server, so a port in TIME_WAIT is not called busy.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(_busy_port_message(host, port)) from exc


commands = [demo_command, start_demo_command, i18n_cli]
