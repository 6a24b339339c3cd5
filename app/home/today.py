""" "Việc hôm nay": the day's work, first on the home page, in the order it should be done.

Caseworker: overdue and due follow-ups, referrals waiting for her (her drafts, sent referrals
past their answer date), transfers to accept, new answers from partners. Volunteer: her
follow-ups and newly assigned cases. Partner: referrals waiting for her organization's answer.
Each line links to the page where the work is done; nothing here is a new permission, every
list is one of the scoped queries the pages themselves use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from app.cases.models import Case
from app.cases.queries import incoming_transfers
from app.extensions import db
from app.followups import queries as followup_queries
from app.followups.services import read_task
from app.notifications.kinds import Kind, inbox_text
from app.notifications.models import Notification
from app.permissions import Actor, Role
from app.referrals.models import Referral
from app.referrals.queries import overdue_condition, visible_referral_rows
from app.referrals.status import ReferralStatus, local_today, status_label

LIMIT = 20


@dataclass(frozen=True)
class Item:
    text: str
    link: str
    when: date | None = None
    is_overdue: bool = False
    followup_id: int | None = None


@dataclass(frozen=True)
class Section:
    title: object
    items: list[Item]


def today_for(actor: Actor, today: date | None = None) -> list[Section] | None:
    """The sections for this actor (empty ones kept, so she sees "nothing"), or None for roles
    whose home has no day's work."""
    today = today or local_today()
    if actor.has_role(Role.CASEWORKER):
        return [
            Section(_l("Việc theo dõi quá hạn và đến hạn"), _followups(actor, today)),
            Section(_l("Chuyển gửi chờ tôi xử lý"), _my_referrals(actor, today)),
            Section(_l("Hồ sơ chờ tiếp nhận"), _transfers(actor)),
            Section(_l("Trả lời mới của cơ sở dịch vụ"), _unread(actor, _ANSWERS)),
        ]
    if actor.has_role(Role.VOLUNTEER):
        return [
            Section(_l("Việc theo dõi quá hạn và đến hạn"), _followups(actor, today)),
            Section(_l("Hồ sơ mới được giao"), _unread(actor, (Kind.CASE_ASSIGNED,))),
        ]
    if actor.has_role(Role.PARTNER):
        return [Section(_l("Chuyển gửi chờ cơ sở trả lời"), _waiting_for_partner(actor, today))]
    return None


_ANSWERS = (Kind.REFERRAL_ANSWERED, Kind.REFERRAL_EXPIRED)


def _followups(actor: Actor, today: date) -> list[Item]:
    return [
        Item(
            text=f"{f.case.code}: {read_task(f) or ''}",
            link=f"/cases/{f.case.code}/plan",
            when=f.due_on,
            is_overdue=f.due_on < today,
            followup_id=f.id,
        )
        for f in followup_queries.my_open_followups(actor, today)[:LIMIT]
    ]


# What a line of referral work shows: its number, status and answer date (plain rows).
_ROW = (Referral.id, Referral.status, Referral.respond_by)


def _referral_item(r: sa.Row, today: date, show_case: bool) -> Item:
    label = f"#{r.id} · {r.code} · " if show_case else f"#{r.id} · "
    return Item(
        text=label + status_label(r.status),
        link=f"/referrals/{r.id}",
        when=r.respond_by,
        is_overdue=bool(r.respond_by and r.respond_by < today and r.status == "requested"),
    )


def _my_referrals(actor: Actor, today: date) -> list[Item]:
    mine_drafts = sa.and_(
        Referral.status == ReferralStatus.DRAFT.value, Referral.created_by_id == actor.user_id
    )
    stmt = (
        visible_referral_rows(actor, *_ROW, Case.code, few=True)
        .where(sa.or_(mine_drafts, overdue_condition(today)))
        .order_by(Referral.respond_by.is_(None), Referral.respond_by, Referral.id)
        .limit(LIMIT)
    )
    return [_referral_item(r, today, True) for r in db.session.execute(stmt)]


def _waiting_for_partner(actor: Actor, today: date) -> list[Item]:
    stmt = (
        visible_referral_rows(actor, *_ROW)
        .where(Referral.status == ReferralStatus.REQUESTED.value)
        .order_by(Referral.respond_by, Referral.id)
        .limit(LIMIT)
    )
    return [_referral_item(r, today, False) for r in db.session.execute(stmt)]


def _transfers(actor: Actor) -> list[Item]:
    return [
        Item(text=str(row.code), link="/cases/", when=row.transfer_requested_at)
        for row in incoming_transfers(actor)[:LIMIT]
    ]


def _unread(actor: Actor, kinds) -> list[Item]:
    notes = db.session.scalars(
        sa.select(Notification)
        .where(
            Notification.user_id == actor.user_id,
            Notification.read_at.is_(None),
            Notification.kind.in_([str(k) for k in kinds]),
        )
        .order_by(Notification.id.desc())
        .limit(LIMIT)
    )
    return [
        Item(text=inbox_text(n.kind, n.params), link=f"/notifications/{n.id}/open") for n in notes
    ]
