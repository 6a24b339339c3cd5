"""`flask referrals ...`: expire unanswered referrals (cron), attach a partner user."""

from __future__ import annotations

import uuid

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import with_appcontext

from app.extensions import db
from app.permissions import Actor, Role
from app.referrals.status import local_today


@click.group("referrals")
def referrals_cli():
    """Referrals and the partner directory."""


@referrals_cli.command("expire")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Run as if today were this date (YYYY-MM-DD).",
)
@click.option(
    "--grace-days",
    type=int,
    default=None,
    help="Days after respond_by before cancelling (default: config "
    "REFERRAL_EXPIRY_GRACE_DAYS, else 0).",
)
@with_appcontext
def expire_command(today, grace_days):
    """Cancel sent referrals left unanswered past respond_by (expired_no_response).

    Idempotent, for cron: run it daily. Prints other services of the same category that cover
    the case's area, so the caseworker can refer again.
    """
    from app.referrals import queries, services

    today = today.date() if today else local_today()
    if grace_days is None:
        grace_days = int(current_app.config.get("REFERRAL_EXPIRY_GRACE_DAYS", 0))
    expired = services.expire_unanswered(Actor.system("referrals-expire"), today, grace_days)
    lines = []
    for referral in expired:
        suggestions = queries.suggestions_for(referral)
        names = "; ".join(f"{s.name} ({s.organization.name}) [{s.id}]" for s in suggestions)
        lines.append(
            f"referral {referral.id} case {referral.case.code} "
            f"({referral.category}) expired; other services: {names or 'none'}"
        )
    db.session.commit()
    for line in lines:
        click.echo(line)
    click.echo(f"{len(expired)} referral(s) expired")


@referrals_cli.command("attach-partner")
@click.argument("username")
@click.argument("org_id")
@with_appcontext
def attach_partner_command(username: str, org_id: str):
    """Attach a user of role partner to a partner organization (HSDS UUID)."""
    from app.orgs.models import User
    from app.referrals.models import PartnerOrganization

    user = db.session.execute(sa.select(User).where(User.username == username)).scalar()
    if user is None or user.role != Role.PARTNER:
        raise click.ClickException("no user of role partner with this username")
    try:
        org = db.session.get(PartnerOrganization, uuid.UUID(org_id))
    except ValueError:
        org = None
    if org is None:
        raise click.ClickException("no partner organization with this id")
    from app.referrals.directory import attach_partner

    attach_partner(Actor.system("cli"), user, org)
    db.session.commit()
    click.echo(f"{username} now sees the referrals of organization {org.id}")


commands = [referrals_cli]
