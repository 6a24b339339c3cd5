"""Demo partner directory for the demo province, the `partner` user's organization, and
referrals in every status on the demo cases (the cases demo runs first), dated along each
case's story so the connected rate and the referral figures tell it. Idempotent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa

from app.audit import services as audit
from app.cases import consents
from app.cases.demo import COMMUNES, STORY, Story, reference_day
from app.cases.models import Case, Need
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, Role
from app.referrals import directory, queries, services, sharing
from app.referrals.models import PartnerOrganization, Referral
from app.referrals.services import TransitionInput

# (organization, description, phone, address, [(service, category, days, eligibility, fees)])
DIRECTORY = [
    (
        "Trung tâm Y tế huyện Hoa Lư (demo)",
        "Khám chữa bệnh, xét nghiệm HIV/STI, methadone.",
        "0229 3871 100",
        "Đường Trần Hưng Đạo, TT Thiên Tôn",
        [
            (
                "Tư vấn và xét nghiệm HIV/STI tự nguyện",
                "health",
                3,
                "Mọi người, không cần giấy tờ tùy thân",
                "Miễn phí",
            ),
            (
                "Điều trị Methadone",
                "health",
                7,
                "Người sử dụng chất dạng thuốc phiện",
                "Theo quy định",
            ),
        ],
    ),
    (
        "Trung tâm Trợ giúp pháp lý nhà nước tỉnh (demo)",
        "Trợ giúp pháp lý miễn phí cho người thuộc diện được trợ giúp.",
        "0229 3872 200",
        "Số 5 Đường Lê Hồng Phong, TP Hoa Lư",
        [
            (
                "Tư vấn pháp luật, tham gia tố tụng",
                "legal_aid",
                5,
                "Người thuộc diện trợ giúp pháp lý",
                "Miễn phí",
            )
        ],
    ),
    (
        "Trường Cao đẳng nghề Ninh Bình (demo)",
        "Đào tạo nghề ngắn hạn và trung cấp.",
        "0229 3873 300",
        "Phường Ninh Giang",
        [
            (
                "Học nghề may, nấu ăn, làm đẹp (3 tháng)",
                "vocational_training",
                10,
                "Từ 16 tuổi",
                "Được hỗ trợ học phí theo chính sách",
            )
        ],
    ),
    (
        "Ngân hàng Chính sách xã hội — Phòng giao dịch Hoa Lư (demo)",
        "Cho vay ưu đãi hộ nghèo, giải quyết việc làm.",
        "0229 3874 400",
        "TT Thiên Tôn",
        [
            (
                "Vay vốn tạo việc làm",
                "loans",
                14,
                "Có hộ khẩu tại tỉnh, có phương án làm ăn",
                "Lãi suất ưu đãi",
            )
        ],
    ),
    (
        "Trung tâm Dịch vụ việc làm tỉnh (demo)",
        "Tư vấn, giới thiệu việc làm.",
        "0229 3875 500",
        "Số 10 Đường Lý Thái Tổ",
        [("Tư vấn và giới thiệu việc làm", "jobs", 5, "Người trong độ tuổi lao động", "Miễn phí")],
    ),
    (
        "Điểm tư vấn tâm lý — Hội LHPN tỉnh (demo)",
        "Tư vấn tâm lý, tham vấn cá nhân và nhóm.",
        "0229 3876 600",
        "Trụ sở Hội LHPN tỉnh",
        [("Tham vấn tâm lý cá nhân", "counselling", 3, "Phụ nữ và trẻ em gái", "Miễn phí")],
    ),
    (
        "Nhà tạm lánh — Ngôi nhà Bình yên (demo)",
        "Nơi tạm lánh an toàn cho nạn nhân bạo lực và mua bán người.",
        "0229 3877 700",
        "Địa chỉ được giữ kín",
        [
            (
                "Tạm lánh và hỗ trợ nạn nhân bạo lực",
                "violence_support",
                1,
                "Phụ nữ và trẻ em bị bạo lực",
                "Miễn phí",
            ),
            (
                "Hỗ trợ nạn nhân bị mua bán",
                "trafficking_support",
                1,
                "Nạn nhân bị mua bán trở về",
                "Miễn phí",
            ),
            (
                "Hỗ trợ thủ tục trợ cấp xã hội",
                "social_protection",
                7,
                "Người thuộc diện bảo trợ xã hội",
                "Miễn phí",
            ),
        ],
    ),
]
PARTNER_ORG = DIRECTORY[0][0]
APPLICATION_PROCESS = "Cán bộ Hội gửi phiếu chuyển gửi; gọi trước khi đến."


def _seed_directory(actor: Actor, province: OrgUnit) -> None:
    for name, description, phone, address, offered in DIRECTORY:
        exists = db.session.scalar(
            sa.select(PartnerOrganization).where(PartnerOrganization.name == name)
        )
        if exists is not None:
            continue
        org = directory.save_organization(
            actor,
            None,
            {"name": name, "description": description, "org_unit_id": province.id},
            phone=phone,
        )
        location = directory.save_location(
            actor,
            org,
            None,
            {
                "name": "Cơ sở chính",
                "address_1": address,
                "city": "Hoa Lư",
                "state_province": "Ninh Bình",
                "postal_code": "",
            },
            phone=phone,
        )
        for service_name, category, days, eligibility, fees in offered:
            directory.save_service(
                actor,
                org,
                None,
                directory.ServiceInput(
                    values={
                        "name": service_name,
                        "category": category,
                        "description": service_name,
                        "eligibility_description": eligibility,
                        "fees_description": fees,
                        "application_process": APPLICATION_PROCESS,
                        "languages": "vi",
                        "is_accepting_referrals": True,
                        "response_days": days,
                    },
                    area_ids=[province.id],
                    location_ids=[location.id],
                    contact_name="Cán bộ tiếp nhận",
                    contact_title="Bộ phận tiếp nhận",
                    contact_phone=phone,
                ),
            )


REJECT_REASONS = ("no_capacity", "not_eligible", "out_of_service_area", "missing_documents")
FAIL_REASONS = ("no_show", "could_not_contact")
# What the cases demo's stories (app/cases/demo.py STORY) become: the moves after draft, each
# with the days it takes after the previous move. Data "reject"/"fail" picks a reason in turn;
# "connected"/"late" completes with a service date within / after the 90-day window.
PATHS: dict[str, list[tuple[str, object, int]]] = {
    "draft": [],
    "requested": [("requested", None, 0)],
    "overdue": [("requested", None, 0)],
    "accepted": [("requested", None, 0), ("accepted", None, 2)],
    "rejected": [("requested", None, 0), ("rejected", "reject", 2)],
    "cancelled": [
        ("requested", None, 0),
        ("cancelled", TransitionInput(reason_code="client_declined"), 3),
    ],
    "in-progress": [("requested", None, 0), ("accepted", None, 1), ("in-progress", None, 2)],
    "on-hold": [("requested", None, 0), ("accepted", None, 2), ("on-hold", None, 1)],
    "connected": [("requested", None, 0), ("accepted", None, 1), ("completed", "connected", 0)],
    "late": [
        ("requested", None, 0),
        ("accepted", None, 3),
        ("in-progress", None, 20),
        ("completed", "late", 0),
    ],
    "failed": [("requested", None, 0), ("accepted", None, 2), ("failed", "fail", 12)],
    "entered-in-error": [
        ("requested", None, 0),
        ("entered-in-error", TransitionInput(note="Gửi nhầm cơ sở (demo)"), 1),
    ],
}


def _at(day: date) -> datetime:
    """A working-hours moment of a local day, in UTC."""
    return datetime.combine(day, time(9, 0), LOCAL_TZ).astimezone(UTC)


class _Turns:
    """Deterministic variety: reasons, outcomes and delays taken in turn."""

    def __init__(self) -> None:
        self.n = 0

    def next(self, options):
        self.n += 1
        return options[self.n % len(options)]


def _story_cases() -> list[tuple[Story, Case]]:
    """Each demo case with its story: the k-th case of a commune (by id) tells its k-th story."""
    out = []
    for code in COMMUNES:
        stories = [s for s in STORY if s.commune == code]
        cases = db.session.scalars(
            sa.select(Case)
            .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
            .where(OrgUnit.code == code)
            .order_by(Case.id)
            .limit(len(stories))
        ).all()
        out.extend(zip(stories, cases, strict=False))
    return out


def _refer(
    cw: Actor,
    partner_user: User | None,
    case: Case,
    need: Need,
    story: str,
    today: date,
    turns: _Turns,
) -> Referral | None:
    path = PATHS.get(story)
    if path is None or need.status != "open" or not consents.can_share(case, need.category):
        return None
    service = db.session.scalars(queries.referrable_services(case, need.category)).first()
    if service is None:
        return None
    identified = need.identified_on
    # Sent the day after the need was identified (yesterday for a referral still awaiting an
    # answer in time); an overdue one waited past respond_by.
    sent = min(identified + timedelta(days=1), today)
    if story == "requested":
        sent = max(sent, today - timedelta(days=1))
    referral = services.create_referral(
        cw,
        case,
        need,
        service,
        fields=sharing.default_fields(case),
        partner_note="Chuyển gửi mẫu (demo)",
    )
    moments = [_at(sent)]
    day = sent
    partner = (
        Actor.from_user(partner_user)
        if partner_user is not None
        and partner_user.partner_organization_id == service.organization_id
        else None
    )
    for to, data, after in path:
        day = min(day + timedelta(days=after), today)
        actor = cw if to in ("requested", "entered-in-error", "cancelled") else (partner or cw)
        if data == "reject":
            data = TransitionInput(reason_code=turns.next(REJECT_REASONS))
        elif data == "fail":
            data = TransitionInput(reason_code=turns.next(FAIL_REASONS))
        elif data in ("connected", "late"):
            wait = turns.next((6, 11, 18, 25, 34, 47, 58)) if data == "connected" else 110
            day = min(max(identified + timedelta(days=wait), day), today)
            data = TransitionInput(
                outcome=turns.next(("service_received", "enrolled", "service_received")),
                service_date=day,
                verified_by=None if partner else "Cán bộ tiếp nhận",
            )
        services.transition(actor, referral, to, data, today=day)
        moments.append(_at(day))
        if to == "requested":
            referral.sent_at = _at(day)
        if to in ("accepted", "rejected"):
            referral.responded_at = _at(day)
        db.session.flush()
    for event, moment in zip(referral.events, moments, strict=False):
        event.occurred_at = moment
    referral.created_at, referral.updated_at = moments[0], moments[-1]
    if referral.status == "completed":
        need.status, need.closed_on = "met", referral.completed_on
    return referral


def _seed_referrals(caseworker: User, partner_user: User | None) -> int:
    if db.session.scalar(sa.select(sa.func.count(Referral.id))):
        return 0
    cw = Actor.from_user(caseworker)
    today = reference_day()
    turns = _Turns()
    made = 0
    for story, case in _story_cases():
        if case.erased_at is not None or case.is_restricted:
            continue
        needs = sorted(case.needs, key=lambda n: n.id)
        for need, what in zip(needs, (story.first, story.second), strict=False):
            if what and _refer(cw, partner_user, case, need, what, today, turns) is not None:
                made += 1
    db.session.flush()
    return made


def seed(password: str, **kwargs) -> None:
    system = Actor.system("demo")
    province = db.session.scalar(sa.select(OrgUnit).where(OrgUnit.code == "37"))
    if province is None:
        return
    _seed_directory(system, province)
    partner = db.session.scalar(sa.select(User).where(User.username == "partner"))
    org = db.session.scalar(
        sa.select(PartnerOrganization).where(PartnerOrganization.name == PARTNER_ORG)
    )
    if (
        partner is not None
        and partner.role == Role.PARTNER
        and partner.partner_organization_id is None
    ):
        partner.partner_organization_id = org.id
        audit.record(
            system, "partner.attached", partner, details={"partner_organization": str(org.id)}
        )
    caseworker = db.session.scalar(sa.select(User).where(User.username == "caseworker"))
    if caseworker is not None:
        made = _seed_referrals(caseworker, partner)
        if made:
            audit.record(system, "demo.seeded", object_type="referral", details={"count": made})
    db.session.flush()
