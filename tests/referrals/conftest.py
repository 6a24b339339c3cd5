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


def _private_pg_url(suffix: str) -> str:
    """A PostgreSQL database of our own beside TEST_DATABASE_URL (the session app's stays)."""
    import os

    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    url = make_url(os.environ["TEST_DATABASE_URL"])
    name = f"{url.database}_{suffix}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.execute(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first():
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def own_app(tmp_path):
    """An app on a database of its own that keeps commits: a SQLite file, or a private
    PostgreSQL database when TEST_DATABASE_URL names one. For tests marked real_db/browser."""
    import os

    from app import create_app
    from tests.conftest import make_config, reset_schema, wipe_database

    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        url = _private_pg_url("referrals_own")
        wipe_database(url)  # an earlier run's data keys would not unwrap under today's key set
    else:
        url = f"sqlite:///{tmp_path}/own.sqlite3"
    app = create_app(make_config(tmp_path, url))
    reset_schema(app)
    yield app
    with app.app_context():
        _db.session.remove()
        _db.engine.dispose()
