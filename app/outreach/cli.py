"""`flask outreach import FILE --org-unit CODE`: the Excel import from the command line."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.extensions import db
from app.imports.bounds import FileRefused, read_upload
from app.imports.models import RunStatus
from app.orgs.models import OrgUnit
from app.outreach import import_runs, importer
from app.permissions import Actor


@click.group("outreach")
def outreach_cli():
    """Outreach activities of the commune volunteer teams."""


@outreach_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--org-unit",
    "org_unit_code",
    required=True,
    help="Code of the unit whose communes the rows may name (its subtree).",
)
@with_appcontext
def import_command(file: Path, org_unit_code: str):
    """Import outreach activities from the Excel template: all rows or none."""
    unit = db.session.execute(
        sa.select(OrgUnit).where(OrgUnit.code == org_unit_code, OrgUnit.is_retired.is_(False))
    ).scalar_one_or_none()
    if unit is None:
        raise click.ClickException(f"no active org unit with code {org_unit_code}")
    try:
        with file.open("rb") as stream:
            data = read_upload(stream, importer.LIMITS)
        run = import_runs.import_file(Actor.system("cli"), unit, data, via="cli")
    except (importer.WorkbookError, FileRefused) as exc:
        raise click.ClickException(str(exc)) from None
    if run.status == RunStatus.REFUSED:
        for row, message in run.errors or []:
            click.echo(f"row {row}: {message}" if row else message, err=True)
        raise click.ClickException(f"{run.error_count} error(s); nothing was imported")
    if run.status != RunStatus.DONE:
        raise click.ClickException("the import stopped; nothing was imported (see the logs)")
    click.echo(
        f"{run.rows_created} activities imported, "
        f"{run.rows_published - run.rows_created} already present ({run.rows_total} rows)"
    )


commands = [outreach_cli]
