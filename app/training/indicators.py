"""The staff-trained indicator: officers trained in a period over the officers in post that the
plan counts, per unit of a subtree. The figures come from app.reports.disclosure (`staff`), the
one layer that makes what a supervisor sees.

What counts, and why:

- An officer is trained in a period when she attended at least one session held in it. Named
  attendees (accounts) count once however many sessions they attended; head counts of
  officers without an account are added as entered (the unit's sheet is the only record of
  them, so the unit is asked to count each person once per session).
- A person counts for the unit she works at (an account's own unit, a head count's unit),
  wherever the session was held: a provincial course trains the communes' officers.
- Volunteers are shown beside, never in the rate: the plans' target is about officers
  (cán bộ, công chức, viên chức), the volunteer teams are trained under their own heading.
- The denominator is the sum of the staff in post entered for the plan over the units of the
  row; a row none of whose units has a number entered shows no rate ("chưa nhập") rather
  than a rate over an unknown denominator. The rate is capped at 100% (head counts cannot be
  de-duplicated across sessions).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.reports import disclosure
from app.reports.disclosure import Figure
from app.reports.models import Plan
from app.training.models import StaffInPost, TrainingAttendee, TrainingHeadcount, TrainingSession
from app.training.permissions import VOLUNTEER_ROLES

COLUMNS = {
    "trained": _l("Cán bộ được tập huấn"),
    "in_post": _l("Cán bộ tại chức (theo kế hoạch)"),
    "rate": _l("Tỷ lệ cán bộ được tập huấn"),
    "volunteers": _l("Tình nguyện viên được tập huấn"),
}


@dataclass
class UnitTraining:
    """What one unit's own people did in the period."""

    officer_ids: set[int] = field(default_factory=set)
    officers_counted: int = 0
    volunteer_ids: set[int] = field(default_factory=set)
    volunteers_counted: int = 0


@dataclass
class StaffTraining:
    """The training of every unit of a subtree in one period, loaded once."""

    units: dict[int, UnitTraining]

    def officers(self, members: set[int]) -> int:
        named: set[int] = set()
        counted = 0
        for uid in members & self.units.keys():
            named |= self.units[uid].officer_ids
            counted += self.units[uid].officers_counted
        return len(named) + counted

    def volunteers(self, members: set[int]) -> int:
        named: set[int] = set()
        counted = 0
        for uid in members & self.units.keys():
            named |= self.units[uid].volunteer_ids
            counted += self.units[uid].volunteers_counted
        return len(named) + counted


def _live_in(top: OrgUnit, start: date, end: date):
    return sa.and_(
        TrainingSession.deleted_at.is_(None),
        TrainingSession.held_on >= start,
        TrainingSession.held_on <= end,
        OrgUnit.path.startswith(top.path, autoescape=True),
    )


def load(top: OrgUnit, start: date, end: date) -> StaffTraining:
    """Who of `top`'s subtree was trained between `start` and `end` (both included)."""
    units: dict[int, UnitTraining] = defaultdict(UnitTraining)
    named = db.session.execute(
        sa.select(User.org_unit_id, User.id, User.role)
        .join(TrainingAttendee, TrainingAttendee.user_id == User.id)
        .join(TrainingSession, TrainingSession.id == TrainingAttendee.session_id)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(_live_in(top, start, end))
        .distinct()
    )
    for unit_id, user_id, role in named:
        target = units[unit_id]
        (target.volunteer_ids if role in VOLUNTEER_ROLES else target.officer_ids).add(user_id)
    counted = db.session.execute(
        sa.select(
            TrainingHeadcount.org_unit_id,
            sa.func.sum(TrainingHeadcount.officers),
            sa.func.sum(TrainingHeadcount.volunteers),
        )
        .join(TrainingSession, TrainingSession.id == TrainingHeadcount.session_id)
        .join(OrgUnit, OrgUnit.id == TrainingHeadcount.org_unit_id)
        .where(_live_in(top, start, end))
        .group_by(TrainingHeadcount.org_unit_id)
    )
    for unit_id, officers, volunteers in counted:
        units[unit_id].officers_counted += int(officers or 0)
        units[unit_id].volunteers_counted += int(volunteers or 0)
    return StaffTraining(dict(units))


def staff_in_post(plan: Plan | None, top: OrgUnit) -> dict[int, int]:
    """org unit id -> officers in post entered for `plan`, over `top`'s subtree."""
    if plan is None:
        return {}
    rows = db.session.execute(
        sa.select(StaffInPost.org_unit_id, StaffInPost.officers)
        .join(OrgUnit, OrgUnit.id == StaffInPost.org_unit_id)
        .where(
            StaffInPost.plan_id == plan.id,
            OrgUnit.path.startswith(top.path, autoescape=True),
        )
    )
    return {unit_id: officers for unit_id, officers in rows}


def _in_post(in_post: dict[int, int], members: set[int]) -> int | None:
    known = [in_post[uid] for uid in members if uid in in_post]
    return sum(known) if known else None


def cells(training: StaffTraining, in_post: dict[int, int], members: set[int]) -> dict[str, Figure]:
    """One row of the staff-trained table, every figure made by the disclosure layer."""
    trained = disclosure.staff(training.officers(members))
    post = _in_post(in_post, members)
    denominator = disclosure.staff(post) if post is not None else None
    out = {
        "trained": trained,
        "in_post": denominator or disclosure.withheld(_("Chưa nhập")),
        "rate": disclosure.rate(trained, denominator) if denominator else disclosure.withheld(),
        "volunteers": disclosure.staff(training.volunteers(members)),
    }
    rate = out["rate"].value
    out["summary"] = disclosure.staff(
        rate if rate is not None else out["trained"].value,
        f"{out['trained'].text}/{out['in_post'].text} ({out['rate'].text})"
        if denominator
        else _("%(n)s cán bộ (chưa nhập số cán bộ tại chức)", n=trained.text),
    )
    return out


def target_figure(training: StaffTraining, in_post: dict[int, int], members: set[int]) -> Figure:
    """The rate against a plan's target, its denominator stated: "83.3% (25/30)"."""
    row = cells(training, in_post, members)
    if row["rate"].value is None:
        return disclosure.withheld(
            _("Chưa nhập số cán bộ tại chức")
            if _in_post(in_post, members) is None
            else row["rate"].text
        )
    return disclosure.staff(
        row["rate"].value, f"{row['rate'].text} ({row['trained'].text}/{row['in_post'].text})"
    )
