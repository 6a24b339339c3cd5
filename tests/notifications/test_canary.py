"""Canary: nothing that identifies the person, or reveals a sensitive kind of support, leaves
the system in an e-mail, an SMS or a Zalo message, whatever happens to her referrals."""

from __future__ import annotations

from datetime import date, timedelta

from app.cases.fields import set_field
from app.extensions import db
from app.notifications import delivery
from app.permissions import Actor
from app.referrals import services
from app.referrals.notices import remind
from tests.notifications.conftest import give_settings
from tests.referrals.conftest import actor
from tests.referrals.factories import ALL_SHARING, make_case, make_org, make_service

CANARY_NAME = "Canarynamezq Thị Hoa"
CANARY_OTHER = "Bé Canaryzq"
CANARY_PHONE = "0933 111 222"
SENSITIVE = ("health", "violence_support", "trafficking_support")
SERVICE_NAMES = ("Xét nghiệm HIV Canaryzq", "Nhà tạm lánh bạo lực", "Hỗ trợ nạn nhân bị mua bán")
FORBIDDEN_WORDS = (
    "canaryzq",
    "canarynamezq",
    "0933111222",
    "933111222",
    "0933 111 222",
    "84933111222",
    "health",
    "violence",
    "trafficking",
    "y tế",
    "hiv",
    "arv",
    "bạo lực",
    "mua bán",
    "xét nghiệm",
    "tạm lánh",
)


def test_no_outgoing_payload_carries_identifying_or_revealing_data(loop, world, smtp, gateway):
    cw_user = world.users["caseworker"]
    org = make_org("Trung tâm Canaryzq")
    services_ = [
        make_service(org, cat, [world.province], 3, name=name)
        for cat, name in zip(SENSITIVE, SERVICE_NAMES, strict=True)
    ]
    case = make_case(
        world.commune_a,
        consents=("record", "contact_phone", *ALL_SHARING),
        needs=SENSITIVE,
        preferred_name=CANARY_OTHER,
        phone=CANARY_PHONE,
        user=cw_user,
    )
    set_field(case, "full_name", CANARY_NAME)
    case.assigned_to_id = cw_user.id
    partner = loop.partner
    partner.partner_organization_id = org.id
    for user in (partner, cw_user):
        give_settings(user, channels=("email", "sms", "zalo"), phone="0987 654 321")
    db.session.commit()

    cw, pa = actor(cw_user), actor(partner)
    long_ago = date.today() - timedelta(days=10)
    referrals = []
    for need, service in zip(case.needs, services_, strict=True):
        referral = services.create_referral(cw, case, need, service, fields=["need"])
        services.send_referral(cw, referral, today=long_ago)
        referrals.append(referral)
    services.transition(pa, referrals[0], "accepted")
    services.transition(
        pa,
        referrals[0],
        "completed",
        services.TransitionInput(outcome="service_received", service_date=date.today()),
    )
    services.transition(
        pa, referrals[1], "rejected", services.TransitionInput(reason_code="no_capacity")
    )
    remind(date.today())
    services.expire_unanswered(Actor.system("referrals-expire"), date.today())
    db.session.commit()
    assert delivery.deliver_due() > 10

    payloads = []
    for message in smtp.messages:
        payloads.append(str(message))  # every header
        payloads.append(message.get_content())
    for request in gateway.requests:
        payloads.append(request["raw"].decode())
        payloads.append(str(request["body"]))
        payloads.append(str(request["headers"]))
    assert len(smtp.messages) >= 5 and len(gateway.requests) >= 10
    code = case.code.lower()
    for text in payloads:
        lowered = text.lower()
        assert code not in lowered
        for word in FORBIDDEN_WORDS:
            assert word not in lowered, (word, text[:300])
        for name in SERVICE_NAMES:
            assert name.lower() not in lowered
