"""`flask reports ...`: maintenance of the reports' figures tables."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from app.extensions import db
from app.permissions import Actor


@click.group("reports")
def reports_cli():
    """Reports and their figures."""


@reports_cli.command("rebuild-figures")
@with_appcontext
def rebuild_figures_command():
    """Recompute the figures the reports count (kept current on every change; run this after
    restoring an old backup or loading data outside the application)."""
    from app.cases.models import Case
    from app.reports import services

    total = db.session.scalar(sa.select(sa.func.count()).select_from(Case)) or 0
    with click.progressbar(length=total, label="Recomputing", show_pos=True) as bar:
        count = services.rebuild_figures(Actor.system("reports-rebuild"), bar.update)
    db.session.commit()
    click.echo(f"figures recomputed for {count} case(s)")


commands = [reports_cli]
