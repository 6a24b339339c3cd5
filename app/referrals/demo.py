"""Demo partner directory for the demo province, the `partner` user's organization, and
referrals in every status on the demo cases (the cases demo runs first). Idempotent."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from app.audit import services as audit
from app.cases import consents
from app.cases.models import Case, Need
from app.extensions import db
from app.orgs.models import OrgUnit, User
from app.permissions import Actor, Role
from app.referrals import directory, services, sharing
from app.referrals.models import PartnerOrganization, Referral
from app.referrals.services import TransitionInput
from app.referrals.status import local_today

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


# One referral per path through the status machine: (moves after draft, with their data).
_C = TransitionInput(reason_code="client_declined")
PATHS: list[list[tuple[str, TransitionInput | None]]] = [
    [],  # draft
    [("requested", None)],
    [("requested", None)],  # overdue (sent long ago)
    [("requested", None), ("accepted", None)],
    [("requested", None), ("rejected", TransitionInput(reason_code="no_capacity"))],
    [("requested", None), ("cancelled", _C)],
    [("requested", None), ("accepted", None), ("in-progress", None)],
    [("requested", None), ("accepted", None), ("on-hold", None)],
    [
        ("requested", None),
        ("accepted", None),
        ("in-progress", None),
        ("completed", "service_received"),
    ],
    [("requested", None), ("accepted", None), ("completed", "enrolled")],
    [("requested", None), ("accepted", None), ("failed", TransitionInput(reason_code="no_show"))],
    [("requested", None), ("entered-in-error", TransitionInput(note="Gửi nhầm cơ sở (demo)"))],
]


def _candidates(caseworker: User) -> list[tuple[Case, Need]]:
    rows = db.session.execute(
        sa.select(Case, Need)
        .join(Need, Need.case_id == Case.id)
        .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
        .where(
            OrgUnit.path.startswith(caseworker.org_unit.path),
            Need.status == "open",
            Case.erased_at.is_(None),
            Case.is_restricted.is_(False),
        )
        .order_by(Case.id, Need.id)
    ).all()
    return [(case, need) for case, need in rows if consents.can_share(case, need.category)]


def _seed_referrals(caseworker: User, partner_user: User | None) -> int:
    if db.session.scalar(sa.select(sa.func.count(Referral.id))):
        return 0
    cw = Actor.from_user(caseworker)
    today = local_today()
    made = 0
    for case, need in _candidates(caseworker):
        if made == len(PATHS):
            break
        service = db.session.scalars(services.referrable_services(case, need.category)).first()
        if service is None:
            continue
        path = PATHS[made]
        fields = sharing.default_fields(case)
        referral = services.create_referral(
            cw, case, need, service, fields=fields, note="Chuyển gửi mẫu (demo)"
        )
        sent_on = today - timedelta(days=30 if made == 2 else 2)
        for to, data in path:
            partner = (
                Actor.from_user(partner_user)
                if (
                    partner_user is not None
                    and partner_user.partner_organization_id == service.organization_id
                )
                else None
            )
            actor = partner or cw
            if to in ("requested", "entered-in-error") or (to == "cancelled"):
                actor = cw
            if isinstance(data, str):
                data = TransitionInput(
                    outcome=data,
                    service_date=today,
                    verified_by=None if partner else "Cán bộ tiếp nhận",
                )
            services.transition(
                actor, referral, to, data, today=sent_on if to == "requested" else today
            )
        made += 1
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
