"""Staff training in the demo province: officers in post for the 2026 plan, a few sessions in
2026 and one in 2025 (the same period of the year before). Idempotent.

With the demo plan's 29 officers in post, 18 officers were trained in 2026 (62.1 %, against a
target of 100 %), 15 of them in the first half; 15 volunteers were trained beside them.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from app.audit import services as audit
from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.permissions import Actor
from app.reports.demo import PLAN_NAME
from app.reports.models import Plan
from app.training import staffing
from app.training.models import TrainingAttendee, TrainingHeadcount, TrainingSession

STAFF_IN_POST = {"37": 6, "37-D1": 4, "37-D2": 4, **{f"37-C0{n}": 3 for n in range(1, 6)}}

# (key, day, holding unit, topic, organizer, format, accounts, {unit: (officers, volunteers)})
SESSIONS = [
    (
        "demo-training-2025",
        date(2025, 10, 15),
        "37",
        "Triển khai kế hoạch phòng, chống mại dâm giai đoạn mới",
        "Hội LHPN tỉnh",
        "in_person",
        (),
        {"37": (3, 0), "37-D1": (2, 0)},
    ),
    (
        "demo-training-1",
        date(2026, 3, 12),
        "37",
        "Kỹ năng tư vấn, hỗ trợ hòa nhập cộng đồng cho phụ nữ bán dâm",
        "Hội LHPN tỉnh phối hợp Sở Y tế",
        "in_person",
        ("caseworker",),
        {"37": (4, 0), "37-D1": (2, 0), "37-D2": (3, 0)},
    ),
    (
        "demo-training-2",
        date(2026, 5, 20),
        "37-D1",
        "Phòng, chống bạo lực trên cơ sở giới; can thiệp giảm hại",
        "Hội LHPN huyện Hoa Lư",
        "mixed",
        ("volunteer",),
        {"37-C01": (2, 4), "37-C02": (2, 3), "37-C03": (1, 2)},
    ),
    (
        "demo-training-3",
        date(2026, 9, 8),
        "37-D2",
        "Cập nhật pháp luật về phòng, chống mại dâm và mua bán người",
        "Hội LHPN huyện Kim Sơn phối hợp Công an huyện",
        "online",
        (),
        {"37-C04": (2, 0), "37-C05": (1, 5)},
    ),
]


def seed(password: str, **kwargs) -> None:
    units = {
        u.code: u
        for u in db.session.execute(
            sa.select(OrgUnit).where(OrgUnit.code.in_(STAFF_IN_POST))
        ).scalars()
    }
    if "37" not in units:
        return
    users = {
        u.username: u
        for u in db.session.execute(
            sa.select(User).where(User.username.in_(["caseworker", "volunteer", "admin"]))
        ).scalars()
    }
    system = Actor.system("demo")
    _seed_staffing(system, units)
    existing = set(
        db.session.execute(
            sa.select(TrainingSession.import_key).where(
                TrainingSession.import_key.like("demo-training%")
            )
        ).scalars()
    )
    made = 0
    for key, day, holder, topic, organizer, fmt, accounts, counts in SESSIONS:
        if key in existing:
            continue
        session = TrainingSession(
            import_key=key,
            org_unit_id=units[holder].id,
            held_on=day,
            topic=topic,
            organizer=organizer,
            format=fmt,
            created_by_id=users["admin"].id if "admin" in users else None,
        )
        session.attendees = [TrainingAttendee(user_id=users[a].id) for a in accounts if a in users]
        session.headcounts = [
            TrainingHeadcount(org_unit_id=units[code].id, officers=o, volunteers=v)
            for code, (o, v) in counts.items()
        ]
        db.session.add(session)
        made += 1
    db.session.flush()
    if made:
        audit.record(system, "demo.seeded", object_type="training_session", details={"count": made})


def _seed_staffing(actor: Actor, units: dict[str, OrgUnit]) -> None:
    plan = db.session.execute(
        sa.select(Plan).where(Plan.org_unit_id == units["37"].id, Plan.name == PLAN_NAME)
    ).scalar_one_or_none()
    if plan is None or staffing.staff_in_post(plan):
        return
    numbers = {units[code].id: n for code, n in STAFF_IN_POST.items() if code in units}
    staffing.set_staff_in_post(actor, plan, numbers)
