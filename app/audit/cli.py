"""`flask audit ...`: verify the chain, issue signed checkpoints, answer breach questions."""

from __future__ import annotations

import csv
import sys
import time
from datetime import date

import click
from flask.cli import with_appcontext

from app.audit import checkpoints, queries, services
from app.audit.verify import verify_database
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
    "--checkpoint",
    "checkpoint_text",
    default=None,
    help="Also a checkpoint printed by `flask audit checkpoint` or found in an export.",
)
@click.option(
    "--checkpoint-file",
    default=None,
    help="The checkpoint file to check against (default: AUDIT_CHECKPOINT_FILE).",
)
@click.option("--batch-size", type=click.IntRange(min=100), default=20_000, show_default=True)
@with_appcontext
def verify_command(checkpoint_text: str | None, checkpoint_file: str | None, batch_size: int):
    """Check every shard's chain, head and checkpoints; exit 1 naming what is wrong."""
    key = keyring().audit_key
    path = checkpoint_file or str(checkpoints.checkpoint_path())
    found, file_problems = checkpoints.load_checkpoints(path, key) if path else ([], [])
    if checkpoint_text:
        try:
            found.append(checkpoints.Checkpoint.decode(checkpoint_text, key))
        except checkpoints.CheckpointError as exc:
            raise click.ClickException(f"checkpoint refused: {exc}") from None
    started = time.perf_counter()
    result = verify_database(
        db.engine, key, checkpoints=found, file_problems=file_problems, batch_size=batch_size
    )
    elapsed = time.perf_counter() - started
    if not result.ok:
        for problem in result.problems:
            click.echo(f"FAILED at {problem}", err=True)
        click.echo(f"({result.checked} events verified, {elapsed:.1f} s)", err=True)
        sys.exit(1)
    click.echo(
        f"OK: {result.checked} events verified in {len(result.shards)} shards in "
        f"{elapsed:.1f} s; {result.checkpoints} checkpoints reached ({path or 'no file'})"
    )


@audit_cli.command("checkpoint")
@with_appcontext
def checkpoint_command():
    """Record a checkpoint of every shard head, append it to the checkpoint file, print it."""
    checkpoint = services.issue_checkpoint(Actor.system(CLI_ACTOR))
    db.session.commit()
    click.echo(checkpoint.encode())
    click.echo(
        f"({len(checkpoint.heads)} shards at {checkpoint.at}, root {checkpoint.root}; "
        f"appended to {checkpoints.checkpoint_path() or 'no file'})",
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
