"""`flask cases import FILE --org-unit CODE`: the same rules and audit as the upload page."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.extensions import db
from app.imports.bounds import read_upload
from app.imports.models import RunStatus
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, Role


@click.group("cases")
def cases_cli():
    """Cases: import from the template."""


@cases_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org-unit", "org_unit_code", required=True, help="Code of the commune/ward.")
@click.option(
    "--as",
    "username",
    default=None,
    help="Import as this caseworker (default: the system actor 'cli-import').",
)
@with_appcontext
def import_command(file: Path, org_unit_code: str, username: str | None):
    """Import cases from FILE (.xlsx or .csv, the app's template); all rows or none."""
    from app.cases import importer

    unit = db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == org_unit_code)).scalar()
    if unit is None:
        raise click.ClickException(f"no org unit with code {org_unit_code}")
    actor = Actor.system("cli-import")
    if username:
        user = db.session.execute(sa.select(User).where(User.username == username)).scalar()
        if user is None or user.role != Role.CASEWORKER:
            raise click.ClickException(f"{username} is not a caseworker")
        actor = Actor.from_user(user)
    try:
        with file.open("rb") as stream:
            content = read_upload(stream, importer.LIMITS)
        run = importer.import_file(actor, file.name, content, unit, via="cli")
    except importer.ImportError_ as exc:
        raise click.ClickException(str(exc)) from None
    if run.status == RunStatus.REFUSED:
        for row, message in run.errors or []:
            click.echo(f"row {row}: {message}", err=True)
        raise click.ClickException(f"{run.error_count} row(s) wrong; nothing was imported")
    if run.status != RunStatus.DONE:
        raise click.ClickException("the import stopped; nothing was imported (see the logs)")
    click.echo(f"imported {run.rows_published} case(s) into {unit.code}")


commands = [cases_cli]
