"""`flask outreach import FILE --org-unit CODE`: the Excel import from the command line."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.extensions import db
from app.orgs.models import OrgUnit
from app.outreach import importer, services
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
    data = file.read_bytes()
    try:
        rows = importer.read_rows(data)
    except importer.WorkbookError as exc:
        raise click.ClickException(str(exc)) from None
    with click.progressbar(length=2 * len(rows), label="Checking and importing rows") as bar:

        def progress(items):
            for item in items:
                yield item
                bar.update(1)

        try:
            result = services.import_activities(
                Actor.system("cli"), unit, rows, importer.digest(data), via="cli", progress=progress
            )
        except services.ImportRejected as exc:
            db.session.rollback()
            click.echo("")
            for row, message in exc.errors:
                click.echo(f"row {row}: {message}" if row else message, err=True)
            raise click.ClickException(
                f"{len(exc.errors)} error(s); nothing was imported"
            ) from None
    db.session.commit()
    click.echo(
        f"{result.created} activities imported, {result.already} already present "
        f"({result.rows} rows)"
    )


commands = [outreach_cli]
