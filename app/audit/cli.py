"""`flask audit ...`: verify the chain, issue signed checkpoints, answer breach questions."""

from __future__ import annotations

import csv
import sys
import time
from datetime import date

import click
from flask.cli import with_appcontext

from app.audit import queries, services
from app.audit.verify import Checkpoint, CheckpointError, verify_database
from app.crypto.keyring import keyring
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.permissions import Actor

CLI_ACTOR = "cli"


class _Echo:
    """A file-like target for csv.writer that goes through click (testable with CliRunner)."""

    def write(self, text: str) -> None:
        click.echo(text, nl=False)


@click.group("audit")
def audit_cli():
    """The audit trail: verify, checkpoint, accessed."""


@audit_cli.command("verify")
@click.option(
    "--from",
    "from_seq",
    type=click.IntRange(min=1),
    default=1,
    help="Start at this event (the one before it anchors the chain).",
)
@click.option(
    "--checkpoint",
    "checkpoint_text",
    default=None,
    help="A checkpoint printed by `flask audit checkpoint`: the chain must reach it.",
)
@click.option("--batch-size", type=click.IntRange(min=100), default=20_000, show_default=True)
@with_appcontext
def verify_command(from_seq: int, checkpoint_text: str | None, batch_size: int):
    """Check every event's hash and link; exit 1 naming the first bad event."""
    key = keyring().audit_key
    checkpoint = None
    if checkpoint_text:
        try:
            checkpoint = Checkpoint.decode(checkpoint_text, key)
        except CheckpointError as exc:
            raise click.ClickException(f"checkpoint refused: {exc}") from None
    started = time.perf_counter()
    result = verify_database(
        db.engine, key, from_seq=from_seq, checkpoint=checkpoint, batch_size=batch_size
    )
    elapsed = time.perf_counter() - started
    if not result.ok:
        click.echo(f"FAILED at {result.problem}", err=True)
        click.echo(f"({result.checked} events verified before it, {elapsed:.1f} s)", err=True)
        sys.exit(1)
    span = f"{result.first_seq}–{result.last_seq}" if result.checked else "none"
    click.echo(
        f"OK: {result.checked} events verified (seq {span}) in {elapsed:.1f} s; "
        f"head {result.last_seq} {result.last_hash}"
    )
    if checkpoint is not None:
        click.echo(f"Checkpoint of {checkpoint.at} (event {checkpoint.seq}) reached.")


@audit_cli.command("checkpoint")
@with_appcontext
def checkpoint_command():
    """Print a signed checkpoint of the chain head; keep it outside the database."""
    checkpoint = services.issue_checkpoint(Actor.system(CLI_ACTOR))
    db.session.commit()
    click.echo(checkpoint.encode())
    click.echo(
        f"(event {checkpoint.seq} at {checkpoint.at}; later: "
        "flask audit verify --checkpoint <the line above>)",
        err=True,
    )


@audit_cli.command("accessed")
@click.option(
    "--since",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="First day (YYYY-MM-DD, Vietnam time), included.",
)
@click.option(
    "--until",
    type=click.DateTime(["%Y-%m-%d"]),
    required=True,
    help="Last day (YYYY-MM-DD, Vietnam time), included.",
)
@click.option("--user", "username", default=None, help="Only this username.")
@with_appcontext
def accessed_command(since, until, username: str | None):
    """Which case codes each user viewed in the window (CSV): what a breach report needs."""
    since_day: date = since.date()
    until_day: date = until.date()
    if until_day < since_day:
        raise click.BadParameter("--until is before --since", param_hint="--until")
    rows = queries.accessed_cases(since_day, until_day, username)
    filters = queries.recorded_filters(
        queries.AuditFilters(username=username, since=since_day, until=until_day)
    )
    services.record_audit_exported(
        Actor.system(CLI_ACTOR), filters, len(rows), via="cli", report="accessed"
    )
    db.session.commit()
    writer = csv.writer(_Echo(), lineterminator="\n")
    writer.writerow(["username", "case_code", "views", "first_viewed_at", "last_viewed_at"])
    for row in rows:
        writer.writerow(
            [
                row.username,
                row.case_code,
                row.views,
                row.first_viewed_at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
                row.last_viewed_at.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
            ]
        )


commands = [audit_cli]
