"""Overdue requests and drafts read with the scope tested row by row (`visible_referrals(few=True)`)
find exactly what the scope join finds, for every caseworker of the tree: on her home and in
the count."""

from __future__ import annotations

from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.orgs.models import OrgLevel
from app.permissions import Role
from app.referrals import queries
from app.referrals import services as referrals
from tests.factories import OrgUnitFactory, UserFactory
from tests.referrals.conftest import actor
from tests.referrals.factories import make_case, make_service


def _overdue(sender, case, need, service):
    referral = referrals.create_referral(actor(sender), case, need, service, fields=["need"])
    referrals.send_referral(actor(sender), referral, today=date.today() - timedelta(days=10))
    return referral


def test_each_caseworker_sees_the_overdue_requests_of_her_own_subtree(
    loop, world, login_as, fresh_g_per_request
):
    province_worker = UserFactory(
        username="cw_province", role=Role.CASEWORKER, org_unit=world.province
    )
    # A third district, seen from the province only.
    sibling = OrgUnitFactory(
        code="37-A9", name="Huyện A9", level=OrgLevel.DISTRICT, parent=world.province
    )
    service_b = make_service(loop.clinic, "health", [world.province], 3, name="Khám sức khỏe")
    case_b = make_case(world.commune_b, user=world.users["caseworker_b"])
    case_sibling = make_case(sibling, user=province_worker)
    in_a = _overdue(world.users["caseworker"], loop.case, loop.need, loop.hiv_testing)
    in_b = _overdue(world.users["caseworker_b"], case_b, case_b.needs[0], service_b)
    in_sibling = _overdue(province_worker, case_sibling, case_sibling.needs[0], service_b)
    db.session.commit()
    expected = {
        "caseworker": {in_a.id},
        "caseworker_b": {in_b.id},
        "cw_province": {in_a.id, in_b.id, in_sibling.id},
    }
    today = date.today()
    for name, ids in expected.items():
        user = province_worker if name == "cw_province" else world.users[name]
        who = actor(user)
        assert queries.overdue_count(who, today) == len(ids), name
        for few in (True, False):
            found = db.session.scalars(
                queries.visible_referrals(who, few=few)
                .where(queries.overdue_condition(today))
                .with_only_columns(sa.literal_column("referrals.id"))
            )
            assert set(found) == ids, (name, few)
    # On her home, "Chuyển gửi chờ tôi xử lý" lists hers and nobody else's.
    html = login_as(world.users["caseworker"]).get("/home").get_data(as_text=True)
    assert f"#{in_a.id} · " in html
    assert f"#{in_b.id} · " not in html and f"#{in_sibling.id} · " not in html
