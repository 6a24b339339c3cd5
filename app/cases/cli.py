"""`flask cases import FILE --org-unit CODE`: the same rules and audit as the upload page."""

from __future__ import annotations

from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.extensions import db
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
        rows = importer.read_rows(file.name, file.read_bytes(), importer.MAX_ROWS_CLI)
    except importer.ImportError_ as exc:
        raise click.ClickException(str(exc)) from None

    def progress(items):
        with click.progressbar(items, label="Importing", show_pos=True) as bar:
            yield from bar

    cases, errors = importer.import_cases(actor, rows, unit, progress=progress)
    if errors:
        db.session.rollback()
        for error in errors:
            click.echo(f"row {error.row}: {error.message}", err=True)
        raise click.ClickException(f"{len(errors)} row(s) wrong; nothing was imported")
    db.session.commit()
    click.echo(f"imported {len(cases)} case(s) into {unit.code}")


commands = [cases_cli]
