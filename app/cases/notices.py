"""Who must hear of a change to a case, written to the notification outbox (app.notifications)
in the action's own transaction: the assignee, the unit asked to take a transfer, the caseworker
who asked for it, the caseworker of a case whose consent was withdrawn, the admins of a case
that no longer decrypts."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.notifications.kinds import Kind
from app.notifications.outbox import notify
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, Role


def _tell(actor: Actor, users, kind: Kind, case) -> None:
    notify(
        users,
        kind,
        actor=actor,
        link=f"/cases/{case.code}",
        object_type="case",
        object_id=case.id,
        params={"case": case.code},
    )


def assigned(actor: Actor, case) -> None:
    _tell(actor, [case.assigned_to_id], Kind.CASE_ASSIGNED, case)


def transfer_requested(actor: Actor, case, target: OrgUnit) -> None:
    """The caseworkers of the receiving unit (or, if it has none, of the nearest unit above)."""
    unit = target
    while unit is not None:
        ids = list(
            db.session.scalars(
                sa.select(User.id).where(
                    User.org_unit_id == unit.id,
                    User.role == Role.CASEWORKER,
                    User.is_enabled.is_(True),
                )
            )
        )
        if ids:
            _tell(actor, ids, Kind.TRANSFER_REQUESTED, case)
            return
        unit = unit.parent


def transferred(actor: Actor, case, requested_by_id: int | None) -> None:
    _tell(actor, [requested_by_id], Kind.CASE_TRANSFERRED, case)


def consent_withdrawn(actor: Actor, case) -> None:
    _tell(actor, [case.assigned_to_id], Kind.CONSENT_WITHDRAWN, case)


def unreadable(actor: Actor, case_id: int, code: str) -> None:
    """Every admin, once per case (the list may be opened many times a day)."""
    admins = db.session.scalars(
        sa.select(User.id).where(User.role == Role.ADMIN, User.is_enabled.is_(True))
    )
    notify(
        list(admins),
        Kind.CASE_UNREADABLE,
        link="/admin/unreadable-cases",
        object_type="case",
        object_id=case_id,
        params={"case": code},
        dedupe=f"case.unreadable:{code}",
    )
