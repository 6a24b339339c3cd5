"""Demo cases: generated Vietnamese names (no real people) in the demo communes.

`seed(password)` opens the cases of `STORY` (about 55) through the real intake service, dated
over the year before the reference day (today) so the month trend and the connected rate per
district tell a story; app/referrals/demo.py then gives each its referrals. `seed(password,
case_count=100000)` adds a large data set for benchmarks with bulk inserts: every case still gets
its own data key, sealed fields and blind indexes, exactly as the service would write them.
"""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import click
import sqlalchemy as sa

from app.audit import services as audit
from app.cases import consents as cons
from app.cases import services
from app.cases.models import Case, CaseSearchToken, Consent, Need, ReachedVia
from app.cases.search import token_rows
from app.categories import SupportCategory
from app.crypto.envelope import seal, wrap_key
from app.crypto.keyring import KEY_BYTES, keyring
from app.crypto.models import DataKey
from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.orgs.queries import provinces_of
from app.permissions import Actor

COMMUNES = ("37-C01", "37-C02", "37-C03", "37-C04", "37-C05")
# Categories the demo directory (app/referrals/demo.py) has a service for.
REFERRABLE = (
    "health",
    "legal_aid",
    "vocational_training",
    "loans",
    "jobs",
    "counselling",
    "social_protection",
)


@dataclass(frozen=True)
class Story:
    """One demo case: where, when its needs were identified, and what became of its referrals.

    `first` and `second` name what the referrals demo does with the case's first and second
    need (see app/referrals/demo.py PATHS): "connected" (service received within 90 days),
    "late" (service after 90 days), a referral status ("requested", "overdue", "rejected",
    ...), "none" (no referral yet) or "declined" (the person declined the need).
    """

    commune: str
    days_ago: int  # opened and needs identified this many days before the reference day
    first: str
    second: str | None = None


def _story() -> list[Story]:
    """The dashboards' story: Hoa Lư (37-D1) above the 80% target, Kim Sơn (37-D2) below it,
    and Lai Thành (37-C05) with fewer than five cases."""
    d1 = {
        "37-C01": [
            (318, "connected", "rejected"),
            (305, "connected"),
            (290, "connected"),
            (255, "connected", "in-progress"),
            (220, "connected"),
            (200, "connected"),
            (182, "connected", "connected"),
            (160, "connected", "accepted"),
            (140, "connected"),
            (96, "connected", "cancelled"),
            (60, "failed"),
            (41, "connected"),
            (6, "requested"),
        ],
        "37-C02": [
            (305, "connected"),
            (285, "connected"),
            (268, "connected", "failed"),
            (231, "connected"),
            (210, "connected"),
            (190, "declined"),
            (150, "connected", "declined"),
            (112, "connected"),
            (74, "connected", "accepted"),
            (58, "connected", "draft"),
            (33, "connected"),
            (3, "draft"),
        ],
        "37-C03": [
            (300, "connected"),
            (275, "connected"),
            (245, "connected", "entered-in-error"),
            (201, "connected"),
            (166, "connected", "on-hold"),
            (124, "rejected", "none"),
            (104, "connected"),
            (85, "connected"),
            (52, "connected", "overdue"),
            (27, "overdue"),
            (19, "connected"),
        ],
    }
    d2 = {
        "37-C04": [
            (312, "connected"),
            (280, "rejected"),
            (247, "connected", "failed"),
            (214, "overdue"),
            (186, "connected"),
            (158, "failed"),
            (133, "declined"),
            (121, "late"),
            (99, "connected", "rejected"),
            (88, "none"),
            (67, "connected"),
            (48, "overdue", "rejected"),
            (36, "connected"),
            (22, "on-hold"),
            (14, "connected"),
            (9, "in-progress"),
        ],
        "37-C05": [
            (230, "connected"),
            (140, "cancelled"),
            (45, "rejected"),
        ],
    }
    out = []
    for communes in (d1, d2):
        for code, rows in communes.items():
            for days_ago, first, *second in rows:
                out.append(Story(code, days_ago, first, second[0] if second else None))
    return out


STORY = _story()
DEMO_CASES = len(STORY)

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Tạ",
    "Trịnh",
    "Mai",
]
MIDDLE = ["Thị", "Thị", "Thị", "Ngọc", "Thu", "Thanh", "Kim", "Minh", "Hồng", "Bích", "Mỹ"]
GIVEN = [
    "Hoa",
    "Lan",
    "Mai",
    "Hương",
    "Hằng",
    "Trang",
    "Linh",
    "Thảo",
    "Nga",
    "Yến",
    "Phương",
    "Loan",
    "Vân",
    "Huyền",
    "Nhung",
    "Quyên",
    "Thủy",
    "Hạnh",
    "Oanh",
    "Tuyết",
    "Diệp",
    "Liên",
    "Ngân",
    "My",
    "Nhàn",
    "Chi",
    "Dung",
    "Giang",
    "Hà",
    "Khánh",
]
VILLAGES = [
    "Thôn Đông",
    "Thôn Tây",
    "Xóm Trại",
    "Thôn Thượng",
    "Xóm Bến",
    "Thôn Hạ",
    "Khu phố 2",
    "Khu phố 5",
]
REACHED = [r.value for r in ReachedVia]
PRIORITIES = ["high", "normal", "normal", "low"]  # weighted: most needs are normal


def _name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def _phone(rng: random.Random) -> str:
    return "09" + "".join(str(rng.randint(0, 9)) for _ in range(8))


def _id_number(rng: random.Random) -> str:
    return "037" + "".join(str(rng.randint(0, 9)) for _ in range(9))


def _needs(rng: random.Random) -> list[tuple[str, str]]:
    categories = rng.sample([c.value for c in SupportCategory], rng.randint(1, 3))
    return [(c, rng.choice(PRIORITIES)) for c in categories]


def _units() -> list[OrgUnit]:
    return list(
        db.session.execute(
            sa.select(OrgUnit).where(OrgUnit.code.in_(COMMUNES)).order_by(OrgUnit.code)
        ).scalars()
    )


def _user(username: str) -> User | None:
    return db.session.execute(sa.select(User).where(User.username == username)).scalar()


def reference_day() -> date:
    """The day the demo's dates count back from (never in the future for any module)."""
    return date.today()


def seed(password: str, case_count: int | None = None) -> None:
    units = _units()
    if not units:
        return
    existing = db.session.execute(
        sa.select(sa.func.count())
        .select_from(Case)
        .where(Case.org_unit_id.in_([u.id for u in units]))
    ).scalar_one()
    if existing < DEMO_CASES:
        _seed_small(units, STORY[existing:])
    if case_count and case_count > existing:
        bulk_seed(units, case_count - max(existing, DEMO_CASES))


def _story_needs(rng: random.Random, story: Story) -> list[tuple[str, str]]:
    count = 2 if story.second else 1
    categories = rng.sample(REFERRABLE, count)
    return [(c, rng.choice(PRIORITIES)) for c in categories]


def _seed_small(units: list[OrgUnit], stories: list[Story]) -> None:
    rng = random.Random(37)  # noqa: S311 (demo data, not secrets)
    by_code = {u.code: u for u in units}
    caseworker, volunteer = _user("caseworker"), _user("volunteer")
    system = Actor.system("demo")
    today = reference_day()
    for i, story in enumerate(stories):
        unit = by_code.get(story.commune)
        if unit is None:
            continue
        actor = system
        if volunteer is not None and unit.id == volunteer.org_unit_id and i % 3 == 0:
            actor = Actor.from_user(volunteer)
        elif caseworker is not None and unit.path.startswith(caseworker.org_unit.path):
            actor = Actor.from_user(caseworker)
        needs = _story_needs(rng, story)
        minor = i % 17 == 5
        purposes = [cons.RECORD, cons.CONTACT_PHONE] + [cons.share_purpose(c) for c, _p in needs]
        if i % 2 == 0:  # half agreed to be recognised by the services they are referred to
            purposes.append(cons.SHARE_IDENTITY)
        consent = services.ConsentGiven(
            purposes=purposes,
            method=rng.choice(["verbal", "written", "thumbprint"]),
            given_by="guardian" if minor else "self",
            guardian_relation="Mẹ" if minor else None,
        )
        year = today.year - (rng.randint(14, 17) if minor else rng.randint(19, 50))
        name = _name(rng)
        case = services.open_case(
            actor,
            services.Intake(
                org_unit_id=unit.id,
                consent=consent,
                full_name=name,
                preferred_name=name.split()[-1],
                date_of_birth=str(year),
                phone=_phone(rng),
                address=f"{rng.choice(VILLAGES)}, {unit.name}",
                id_number=_id_number(rng),
                reached_via=rng.choice(REACHED),
                needs=needs,
                assigned_to_id=caseworker.id if caseworker is not None and actor.user_id else None,
            ),
        )
        # The intake happened `days_ago` days before the reference day: date it then.
        opened_on = today - timedelta(days=story.days_ago)
        opened_at = datetime.combine(opened_on, time(2, 30), UTC)
        case.opened_on, case.opened_at, case.updated_at = opened_on, opened_at, opened_at
        for consent_row in case.consents:
            consent_row.recorded_at = opened_at
        for need, what in zip(case.needs, (story.first, story.second), strict=False):
            need.identified_on = opened_on
            if what == "declined":
                need.status = "declined"
                need.closed_on = min(opened_on + timedelta(days=2), today)
        if volunteer is not None and unit.id == volunteer.org_unit_id and i % 2 == 0:
            case.assigned_to_id = volunteer.id
        if story.first != "declined":
            case.status = "active"
    db.session.flush()


def _next_id(column) -> int:
    return (db.session.execute(sa.select(sa.func.max(column))).scalar() or 0) + 1


def bulk_seed(units: list[OrgUnit], count: int, batch: int = 2000) -> None:
    """Many cases fast: bulk inserts, each case still with its own wrapped data key."""
    rng = random.Random(2026)  # noqa: S311
    ring = keyring()
    version = ring.current_master_version
    master = ring.master_key(version)
    year = date.today().year
    caseworker = _user("caseworker")
    codes_by_unit = {}
    per_unit = count // len(units) + 1
    for unit in units:
        codes_by_unit[unit.id] = iter(services.allocate_codes(unit, year, per_unit))
    key_id, case_id = _next_id(DataKey.id), _next_id(Case.id)
    now = datetime.now(UTC)
    province = provinces_of(db.session.connection(), [unit.id for unit in units])
    with click.progressbar(length=count, label="Demo cases") as bar:
        done = 0
        while done < count:
            n = min(batch, count - done)
            keys, cases, needs, consents, tokens = [], [], [], [], []
            for _ in range(n):
                unit = units[(case_id) % len(units)]
                raw = secrets.token_bytes(KEY_BYTES)
                dk = DataKey(
                    id=key_id,
                    master_version=version,
                    created_at=now,
                    wrapped_key=wrap_key(raw, key_id, version, master),
                )
                keys.append(
                    {
                        "id": key_id,
                        "wrapped_key": dk.wrapped_key,
                        "master_version": version,
                        "created_at": now,
                    }
                )
                name, phone, idn = _name(rng), _phone(rng), _id_number(rng)
                opened = now - timedelta(days=rng.randint(0, 700))

                def s(value, column, _dk=dk, _cid=case_id):
                    return seal(_dk, value, table="cases", column=column, row_id=_cid)

                for field, value in (("full_name", name), ("phone", phone), ("id_number", idn)):
                    tokens += token_rows(
                        ring.index_key, case_id, field, value, province_id=province.get(unit.id)
                    )
                cases.append(
                    {
                        "id": case_id,
                        "code": next(codes_by_unit[unit.id]),
                        "org_unit_id": unit.id,
                        "status": rng.choice(["open", "active", "active", "closed"]),
                        "opened_at": opened,
                        "opened_on": opened.date(),
                        "updated_at": opened,
                        "opened_by_id": None,
                        "assigned_to_id": caseworker.id if caseworker is not None else None,
                        "birth_year_band": rng.choice(["18-24", "25-34", "35-44", "45+"]),
                        "reached_via": rng.choice(REACHED),
                        "is_minor": False,
                        "is_restricted": False,
                        "data_key_id": key_id,
                        "full_name_enc": s(name, "full_name_enc"),
                        "preferred_name_enc": s(name.split()[-1], "preferred_name_enc"),
                        "date_of_birth_enc": s(
                            str(year - rng.randint(18, 50)), "date_of_birth_enc"
                        ),
                        "phone_enc": s(phone, "phone_enc"),
                        "id_number_enc": s(idn, "id_number_enc"),
                    }
                )
                for category, priority in _needs(rng):
                    needs.append(
                        {
                            "case_id": case_id,
                            "category": category,
                            "priority": priority,
                            "status": "open",
                            "identified_on": opened.date(),
                        }
                    )
                    consents.append(_verbal_consent(case_id, cons.share_purpose(category), opened))
                consents.append(_verbal_consent(case_id, cons.RECORD, opened))
                key_id += 1
                case_id += 1
            db.session.execute(sa.insert(DataKey), keys)
            db.session.execute(sa.insert(Case), cases)
            db.session.execute(sa.insert(Need), needs)
            db.session.execute(sa.insert(Consent), consents)
            db.session.execute(sa.insert(CaseSearchToken), tokens)
            db.session.commit()
            done += n
            bar.update(n)
    _reset_pg_sequences()
    audit.record(
        Actor.system("demo"),
        "demo.seeded",
        object_type="case",
        object_ref="bulk",
        details={"count": count},
    )
    db.session.commit()


def _verbal_consent(case_id: int, purpose: str, recorded_at: datetime) -> dict:
    """A consents row for bulk insert: given verbally by the person herself."""
    return {
        "case_id": case_id,
        "purpose": purpose,
        "method": "verbal",
        "text_version": cons.CONSENT_TEXT_VERSION,
        "given_by": "self",
        "recorded_at": recorded_at,
    }


def _reset_pg_sequences() -> None:
    """Explicit ids bypass PostgreSQL's sequences: move them past the inserted rows."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for table in ("data_keys", "cases", "needs", "consents"):
        db.session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"
            )
        )
