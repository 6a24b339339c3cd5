"""Fixtures of the referral tests: a small directory, a partner user, a consented case."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from app.extensions import db as _db
from app.permissions import Actor
from tests.factories import UserFactory
from tests.referrals.factories import make_case, make_location, make_org, make_service


@dataclass
class Loop:
    clinic: object
    legal: object
    hiv_testing: object
    legal_aid: object
    case: object
    need: object
    partner: object
    partner_b: object


@pytest.fixture
def loop(world):
    """Two partner organizations with a service each, a partner user of each, one case in 37-A1."""
    from app.permissions import Role

    clinic = make_org("Trung tâm Y tế huyện A")
    legal = make_org("Trung tâm Trợ giúp pháp lý")
    hiv_testing = make_service(clinic, "health", [world.district_a], 3, name="Xét nghiệm HIV")
    make_location(clinic, hiv_testing)
    legal_aid = make_service(legal, "health", [world.province], 7, name="Tư vấn sức khỏe pháp lý")
    partner = world.users["partner"]
    partner.partner_organization_id = clinic.id
    partner_b = UserFactory(username="partner_b", role=Role.PARTNER, org_unit=world.district_b)
    partner_b.partner_organization_id = legal.id
    case = make_case(world.commune_a, user=world.users["caseworker"])
    _db.session.commit()
    return Loop(clinic, legal, hiv_testing, legal_aid, case, case.needs[0], partner, partner_b)


def actor(user) -> Actor:
    return Actor.from_user(user)


def forget_signed_in_user() -> None:
    """The test's outer app context shares `g` across requests: forget who was signed in, so
    the next request (another client, or the API with its token) loads its own user."""
    from flask import g

    g.pop("_login_user", None)
    g.pop("actor", None)
