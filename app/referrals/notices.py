"""Who must hear of a referral's change, written to the notification outbox (app.notifications)
inside the transition's own transaction.

A partner's organization hears of a new referral, of its cancellation and of its deadline; the
caseworkers who sent it (and the case's assigned caseworker) hear of every answer and of expiry.
The in-app text may carry the referral number, the service or the case code: each recipient can
open that page. What leaves the system is built from the kind alone (notifications.kinds).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.notifications.kinds import Kind
from app.notifications.outbox import notify
from app.orgs.models import User
from app.permissions import Actor, Role
from app.referrals.models import Referral
from app.referrals.status import ReasonCode, ReferralStatus

S = ReferralStatus
ANSWERS = frozenset({S.ACCEPTED, S.REJECTED, S.ON_HOLD, S.IN_PROGRESS, S.COMPLETED, S.FAILED})


def partner_users(referral: Referral) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(User.id).where(
                User.role == Role.PARTNER,
                User.partner_organization_id == referral.organization_id,
                User.is_enabled.is_(True),
            )
        )
    )


def caseworkers(referral: Referral) -> list[int]:
    """The caseworker who made the referral and the one the case is assigned to."""
    ids = {referral.created_by_id, referral.case.assigned_to_id} - {None}
    if not ids:
        return []
    return list(
        db.session.scalars(sa.select(User.id).where(User.id.in_(ids), User.role == Role.CASEWORKER))
    )


def _link(referral: Referral) -> str:
    return f"/referrals/{referral.id}"


def on_transition(actor: Actor, referral: Referral, frm: str | None, to: S) -> None:
    """Called by every referral transition, after its audit event."""
    ref = f"#{referral.id}"
    common = {"link": _link(referral), "object_type": "referral", "object_id": referral.id}
    if to is S.REQUESTED:
        params = {"ref": ref, "service": referral.service.name}
        notify(partner_users(referral), Kind.REFERRAL_NEW, actor=actor, params=params, **common)
    elif to in ANSWERS:
        params = {"ref": ref, "case": referral.case.code, "status": str(to)}
        notify(caseworkers(referral), Kind.REFERRAL_ANSWERED, actor=actor, params=params, **common)
    elif to is S.CANCELLED and referral.reason_code == ReasonCode.EXPIRED_NO_RESPONSE.value:
        params = {"ref": ref, "case": referral.case.code}
        notify(caseworkers(referral), Kind.REFERRAL_EXPIRED, actor=actor, params=params, **common)
    elif to is S.CANCELLED and frm != S.DRAFT.value:
        # Cancelled by the caseworker, by consent withdrawal, or by the partner herself.
        if actor.has_role(Role.PARTNER):
            params = {"ref": ref, "case": referral.case.code, "status": str(to)}
            notify(
                caseworkers(referral), Kind.REFERRAL_ANSWERED, actor=actor, params=params, **common
            )
        else:
            notify(
                partner_users(referral),
                Kind.REFERRAL_CANCELLED,
                actor=actor,
                params={"ref": ref},
                **common,
            )


def remind(today: date) -> int:
    """Scheduled: due tomorrow (partner) and overdue (partner and caseworkers), once each."""
    written = 0
    requested = Referral.status == S.REQUESTED.value
    soon = sa.select(Referral).where(
        requested, Referral.respond_by == date.fromordinal(today.toordinal() + 1)
    )
    late = sa.select(Referral).where(requested, Referral.respond_by < today)
    system = Actor.system("notifications-remind")
    for referral in db.session.scalars(soon.order_by(Referral.id)):
        params = {"ref": f"#{referral.id}", "date": referral.respond_by.strftime("%d/%m/%Y")}
        written += len(
            notify(
                partner_users(referral),
                Kind.REFERRAL_DUE_SOON,
                actor=system,
                link=_link(referral),
                object_type="referral",
                object_id=referral.id,
                params=params,
                dedupe=f"due_soon:{referral.id}",
            )
        )
    for referral in db.session.scalars(late.order_by(Referral.id)):
        params = {"ref": f"#{referral.id}", "date": referral.respond_by.strftime("%d/%m/%Y")}
        written += len(
            notify(
                partner_users(referral) + caseworkers(referral),
                Kind.REFERRAL_OVERDUE,
                actor=system,
                link=_link(referral),
                object_type="referral",
                object_id=referral.id,
                params=params,
                dedupe=f"overdue:{referral.id}",
            )
        )
    return written
