"""Two transactions on the tree at once: paths must not go stale (real commits, own database)."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.orgs import services
from app.orgs.models import OrgUnit
from app.permissions import Actor
from tests.conftest import reset_schema
from tests.live import own_app

pytestmark = pytest.mark.real_db
SYSTEM = Actor.system("test")


@pytest.fixture
def tree_app(tmp_path):
    app = own_app(tmp_path)
    with app.app_context():
        one = services.create_org_unit(
            SYSTEM, code="P1", name="Tỉnh Một", level="province", parent=None
        )
        services.create_org_unit(SYSTEM, code="P2", name="Tỉnh Hai", level="province", parent=None)
        services.create_org_unit(SYSTEM, code="D", name="Huyện", level="district", parent=one)
        db.session.commit()
    yield app
    # On PostgreSQL this is the suite's database: leave it empty for the tests that follow.
    reset_schema(app)
    with app.app_context():
        db.engine.dispose()


def _get(code: str) -> OrgUnit:
    return db.session.execute(sa.select(OrgUnit).where(OrgUnit.code == code)).scalar_one()


def test_a_unit_created_during_a_move_of_its_parent_gets_the_new_path(tree_app):
    moved, done = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def mover():
        try:
            with tree_app.app_context():
                services.move_org_unit(SYSTEM, _get("D"), _get("P2"))
                moved.set()
                # Hold the transaction open while the other one tries to add under "D".
                time.sleep(0.5)
                db.session.commit()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
            moved.set()
        finally:
            done.set()

    thread = threading.Thread(target=mover)
    thread.start()
    assert moved.wait(10)
    with tree_app.app_context():
        parent = _get("D")  # PostgreSQL: still the committed path under P1 at this point
        commune = services.create_org_unit(
            SYSTEM, code="C", name="Xã", level="commune", parent=parent
        )
        db.session.commit()
        commune_id = commune.id
    thread.join(10)
    assert not failures, failures
    with tree_app.app_context():
        p2, district = _get("P2"), _get("D")
        assert district.path == f"{p2.path}{district.id}/"
        assert _get("C").path == f"{district.path}{commune_id}/"
