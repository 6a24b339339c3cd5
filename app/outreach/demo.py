"""A year of outreach in the demo communes, some of them below target. Idempotent."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import sqlalchemy as sa

from app.audit import services as audit
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.orgs.models import OrgUnit, User
from app.outreach import services
from app.outreach.models import OutreachActivity
from app.outreach.vocab import AUDIENCES, FORMS, PLACES, TOPICS
from app.permissions import Actor

# commune code -> (events per month, months at the end of the year without any activity)
PLAN = {
    "37-C01": (3, 0),
    "37-C02": (2, 0),
    "37-C03": (2, 1),
    "37-C04": (1, 2),
    "37-C05": (1, 5),  # below target: nothing for five months
}
AUTHORS = {"37-C01": "volunteer", "37-C02": "caseworker", "37-C03": "caseworker"}


def seed(password: str, **kwargs) -> None:
    units = {
        u.code: u
        for u in db.session.execute(sa.select(OrgUnit).where(OrgUnit.code.in_(PLAN))).scalars()
    }
    if not units:
        return
    users = {
        u.username: u
        for u in db.session.execute(
            sa.select(User).where(User.username.in_(set(AUTHORS.values())))
        ).scalars()
    }
    existing = set(
        db.session.execute(
            sa.select(OutreachActivity.idempotency_key).where(
                OutreachActivity.idempotency_key.like("demo-%")
            )
        ).scalars()
    )
    rng = random.Random(37)  # the same year of events on every run
    today = services.today()
    created = 0
    for code, (per_month, quiet_months) in PLAN.items():
        unit = units.get(code)
        for month in range(12):
            for n in range(per_month):
                key = f"demo-{code}-{month:02d}-{n}"
                days_ago = month * 30 + rng.randrange(0, 28)
                form, place = rng.choice(list(FORMS)), rng.choice(list(PLACES))
                topics = rng.sample(list(TOPICS), rng.randint(1, 3))
                counts = {a: rng.choice([0, 0, rng.randint(5, 60)]) for a in AUDIENCES}
                if unit is None or key in existing or month < quiet_months:
                    continue
                counts["public"] = counts["public"] or rng.randint(10, 80)
                author = users.get(AUTHORS.get(code, ""))
                held_on = today - timedelta(days=days_ago)
                stamp = datetime.combine(held_on, time(17, 0), LOCAL_TZ).astimezone(UTC)
                activity = OutreachActivity(
                    idempotency_key=key,
                    org_unit_id=unit.id,
                    held_on=held_on,
                    form=form,
                    place=place,
                    created_by_id=author.id if author else None,
                    created_at=stamp,
                    updated_at=stamp,
                    **{f"reached_{a}": c for a, c in counts.items()},
                )
                activity.topics = topics
                db.session.add(activity)
                created += 1
    db.session.flush()
    if created:
        audit.record(
            Actor.system("demo"),
            "demo.seeded",
            object_type="outreach_activity",
            details={"count": created},
        )
