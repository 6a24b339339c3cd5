"""One damaged row does not take a unit's case list down (issue 16, point 3)."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.cases.models import Case
from app.cases.tokens import create_api_token
from app.extensions import db
from app.permissions import Actor
from tests.cases.conftest import open_case
from tests.conftest import sign_in

LABEL = "Không đọc được hồ sơ này — đã báo quản trị"


def _damage(case: Case) -> None:
    """Flip one byte of the sealed full name, as a disk or a bad restore would."""
    blob = bytearray(case.full_name_enc)
    blob[-1] ^= 0x01
    # Beneath the ORM, as a damaged disk would be: no figure depends on a name.
    db.session.connection().execute(
        sa.update(Case.__table__).where(Case.id == case.id).values(full_name_enc=bytes(blob))
    )
    db.session.commit()
    db.session.expire_all()


@pytest.fixture
def damaged(world):
    good = [open_case(world.users["caseworker"], world.commune_a) for _ in range(2)]
    bad = open_case(world.users["caseworker"], world.commune_a, full_name="Phạm Thị Hỏng")
    _damage(bad)
    return bad, good


def _events() -> list[AuditEvent]:
    return list(
        db.session.execute(
            sa.select(AuditEvent).where(AuditEvent.action == "case.unreadable")
        ).scalars()
    )


def test_list_page_shows_the_row_as_unreadable(client, world, damaged):
    bad, good = damaged
    sign_in(client, "caseworker")
    response = client.get("/cases/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.count(LABEL) == 1 and bad.code in html
    for case in good:
        assert case.code in html and "Lê Thị Mẫu" in html
    (event,) = _events()
    assert event.object_ref == bad.code and event.outcome == "error"
    assert event.org_unit_id == world.commune_a.id
    assert json.loads(event.details) == {"via": "list"}
    assert "Hỏng" not in (event.details or "") + (event.reason or "")


def test_api_list_marks_the_row_and_keeps_the_others(client, world, damaged):
    bad, good = damaged
    token = create_api_token(Actor.from_user(world.users["caseworker"]), "t")[1]
    db.session.commit()
    response = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    items = {item["code"]: item for item in response.get_json()["items"]}
    assert items[bad.code]["name"] == LABEL and items[bad.code]["is_unreadable"] is True
    for case in good:
        assert items[case.code]["is_unreadable"] is False
        assert items[case.code]["name"].startswith("Lê Thị Mẫu")
    assert [e.object_ref for e in _events()] == [bad.code]


def test_its_own_page_says_so_and_admins_see_the_code(client, app, world, damaged):
    bad, _good = damaged
    sign_in(client, "caseworker")
    response = client.get(f"/cases/{bad.code}")
    assert response.status_code == 500
    assert LABEL in response.get_data(as_text=True)

    admin = app.test_client()
    sign_in(admin, "admin")
    listing = admin.get("/admin/unreadable-cases")
    assert listing.status_code == 200
    html = listing.get_data(as_text=True)
    assert bad.code in html and "Hỏng" not in html
    assert "/admin/unreadable-cases" in admin.get("/home").get_data(as_text=True)
    # Only admins read the listing.
    assert client.get("/admin/unreadable-cases").status_code == 403


def test_admins_are_told_once_per_case_without_its_contents(client, app, world, damaged):
    from app.notifications.models import Notification

    bad, _good = damaged
    sign_in(client, "caseworker")
    client.get("/cases/")
    client.get("/cases/")  # seen again: the admins are not told twice
    notes = list(
        db.session.scalars(sa.select(Notification).where(Notification.kind == "case.unreadable"))
    )
    assert [n.user_id for n in notes] == [world.users["admin"].id]
    assert notes[0].params == {"case": bad.code} and notes[0].link == "/admin/unreadable-cases"
    admin = app.test_client()
    sign_in(admin, "admin")
    inbox = admin.get("/notifications").get_data(as_text=True)
    assert f'Hồ sơ <span class="mono">{bad.code}</span> không đọc được' in inbox
    assert "Hỏng" not in inbox
