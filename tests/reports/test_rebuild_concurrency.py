"""A rebuild of the figures never holds a lock for long: a case view in the same province
during a rebuild waits less than 100 ms (PostgreSQL, two connections, a lock timeout)."""

from __future__ import annotations

import os
import threading

import pytest
import sqlalchemy as sa

from app.cases import services as case_services
from app.cases.models import Case
from app.extensions import db
from app.orgs.models import OrgLevel
from app.permissions import Actor, Role
from app.reports import services as report_services
from tests.cases.conftest import open_case
from tests.conftest import other_backend, private_pg_url
from tests.factories import OrgUnitFactory, UserFactory
from tests.live import own_app

pytestmark = pytest.mark.real_db


def test_case_view_during_a_rebuild_waits_under_100_ms(tmp_path):
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip(other_backend("needs PostgreSQL: set TEST_DATABASE_URL=postgresql+psycopg://..."))
    app = own_app(tmp_path, SQLALCHEMY_DATABASE_URI=private_pg_url("rebuild"))
    try:
        with app.app_context():
            province = OrgUnitFactory(code="37", name="Tỉnh Ninh Bình", level=OrgLevel.PROVINCE)
            user = UserFactory(username="caseworker", role=Role.CASEWORKER, org_unit=province)
            db.session.commit()
            for _ in range(120):
                open_case(user, province)
            user_id = user.id
        errors: list[BaseException] = []
        done = threading.Event()

        def rebuild():
            try:
                with app.app_context():
                    report_services.rebuild_figures(Actor.system("reports-rebuild"))
                    db.session.remove()
            except BaseException as exc:  # noqa: BLE001 (reported below)
                errors.append(exc)
            finally:
                done.set()

        thread = threading.Thread(target=rebuild)
        thread.start()
        views = 0
        with app.app_context():
            from app.orgs.models import User

            actor = Actor.from_user(db.session.get(User, user_id))
            codes = list(db.session.scalars(sa.select(Case.code)))
            db.session.commit()
            while not done.is_set():
                db.session.execute(sa.text("SET LOCAL lock_timeout = '100ms'"))
                case = db.session.scalar(sa.select(Case).where(Case.code == codes[views % 120]))
                case_services.record_view(actor, case)
                db.session.commit()
                views += 1
            db.session.remove()
        thread.join(60)
        assert errors == []
        assert views >= 3, "the rebuild ended before the views could overlap it"
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
