"""The inbox, the bell, opening and reading, the settings page, the dead-letter list:
each with its permission matrix (own notifications only; admin only) and its audit."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.notifications import delivery
from app.notifications.kinds import Kind
from app.notifications.models import Delivery, DeliveryStatus, Notification, NotificationSettings
from app.notifications.outbox import notify
from tests.conftest import audit_actions
from tests.notifications.conftest import give_settings

ROLES = ["volunteer", "caseworker", "supervisor", "partner", "admin"]


def _denied() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(AuditEvent.outcome == "denied"))


@pytest.fixture
def notes(world):
    """One notification for each user."""
    made = {}
    for name, user in world.users.items():
        [made[name]] = notify(
            [user], Kind.CASE_ASSIGNED, link="/cases/", params={"case": "NB-2026-00001"}
        )
    db.session.commit()
    return made


def test_the_bell_shows_the_unread_count_and_the_inbox_lists_them(world, notes, client_for):
    client = client_for(world.users["caseworker"])
    notify([world.users["caseworker"]], Kind.CASE_TRANSFERRED, link="/cases/", params={})
    db.session.commit()
    home = client.get("/home").get_data(as_text=True)
    assert 'class="bell has-unread"' in home
    assert 'data-count="2"' in home
    inbox = client.get("/notifications")
    assert inbox.status_code == 200
    html = inbox.get_data(as_text=True)
    assert 'Hồ sơ <span class="mono">NB-2026-00001</span> được giao cho bạn' in html
    assert html.count('class="notification unread"') == 2


def test_opening_marks_read_and_goes_to_the_page(world, notes, client_for):
    client = client_for(world.users["caseworker"])
    note = notes["caseworker"]
    response = client.get(f"/notifications/{note.id}/open")
    assert response.status_code == 302 and response.headers["Location"] == "/cases/"
    db.session.expire_all()
    assert db.session.get(Notification, note.id).read_at is not None
    assert 'data-count="0"' in client.get("/home").get_data(as_text=True)


def test_mark_one_and_mark_all_read(world, notes, client_for):
    user = world.users["partner"]
    client = client_for(user)
    notify([user], Kind.REFERRAL_NEW, link="/referrals/1", params={"ref": "#1"})
    db.session.commit()
    assert client.post(f"/notifications/{notes['partner'].id}/read").status_code == 302
    db.session.expire_all()
    assert db.session.get(Notification, notes["partner"].id).read_at is not None
    assert client.post("/notifications/read-all").status_code == 302
    unread = db.session.scalar(
        sa.select(sa.func.count()).where(
            Notification.user_id == user.id, Notification.read_at.is_(None)
        )
    )
    assert unread == 0


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    ("method", "url"),
    [("GET", "/notifications/{id}/open"), ("POST", "/notifications/{id}/read")],
)
def test_someone_elses_notification_is_not_found(world, notes, client_for, role, method, url):
    other = "volunteer_b"
    client = client_for(world.users[role])
    before = _denied()
    response = client.open(url.format(id=notes[other].id), method=method)
    assert response.status_code == 404
    assert _denied() == before + 1
    db.session.expire_all()
    assert db.session.get(Notification, notes[other].id).read_at is None


@pytest.mark.parametrize("role", ROLES)
def test_every_role_has_an_inbox(world, notes, client_for, role):
    client = client_for(world.users[role])
    assert client.get("/notifications").status_code == 200
    own = client.get(f"/notifications/{notes[role].id}/open")
    assert own.status_code == 302


def test_signed_out_is_sent_to_sign_in(client, notes):
    response = client.get(f"/notifications/{notes['caseworker'].id}/open")
    assert response.status_code in (302, 401)
    assert client.get("/notifications").status_code in (302, 401)


SETTINGS_ROLES = {"volunteer", "caseworker", "partner"}


@pytest.mark.parametrize("role", ROLES)
def test_settings_matrix(world, client_for, role):
    client = client_for(world.users[role])
    before = _denied()
    response = client.get("/notifications/settings")
    if role in SETTINGS_ROLES:
        assert response.status_code == 200
    else:
        assert response.status_code == 403
        assert _denied() == before + 1


def _settings_form(**overrides):
    data = {
        "email": "lan.cb@example.org",
        "phone": "0912 345 678",
        "channels": ["email"],
        "kinds": ["referral.answered", "case.assigned"],
        "quiet_start": "21:00",
        "quiet_end": "07:00",
    }
    data.update(overrides)
    return data


def test_saving_settings_seals_the_addresses_and_is_audited(app, world, client_for, smtp):
    user = world.users["caseworker"]
    client = client_for(user)
    response = client.post("/notifications/settings", data=_settings_form())
    assert response.status_code == 302
    row = db.session.scalar(sa.select(NotificationSettings))
    assert row.user_id == user.id and row.channels == ["email"]
    assert "referral.expired" in row.muted_kinds and "case.assigned" not in row.muted_kinds
    assert b"lan.cb" not in row.email_enc and b"345" not in row.phone_enc
    event = db.session.scalar(
        sa.select(AuditEvent).where(AuditEvent.action == "notification.settings_changed")
    )
    assert "email" in event.details and "lan.cb" not in event.details
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "lan.cb@example.org" in page and "84912345678" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("email", "not-an-address", "Địa chỉ e-mail không hợp lệ."),
        ("phone", "12345", "Số điện thoại không hợp lệ"),
        ("quiet_end", "", "Nhập cả giờ bắt đầu và giờ kết thúc"),
    ],
)
def test_bad_settings_are_refused_and_change_nothing(
    world, client_for, smtp, field, value, message
):
    client = client_for(world.users["partner"])
    actions = len(audit_actions())
    data = _settings_form(kinds=["referral.new"], **{field: value})
    response = client.post("/notifications/settings", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(NotificationSettings)) == 0
    assert len(audit_actions()) == actions


def test_bad_settings_in_english(world, client_for, smtp):
    client = client_for(world.users["partner"])
    client.post("/language", data={"lang": "en", "next": "/"})
    data = _settings_form(email="x", kinds=["referral.new"])
    response = client.post("/notifications/settings", data=data)
    assert "The e-mail address is not valid." in response.get_data(as_text=True)


@pytest.fixture
def dead(loop, world, gateway):
    give_settings(loop.partner, channels=("sms",), phone="0912345678")
    gateway.mode = "bad400"
    notify([loop.partner], Kind.REFERRAL_NEW, link="/referrals/1", params={"ref": "#1"})
    db.session.commit()
    delivery.deliver_due()
    [row] = db.session.scalars(sa.select(Delivery)).all()
    assert row.status == DeliveryStatus.DEAD
    gateway.mode = "ok"
    return row


@pytest.mark.parametrize("role", ROLES)
def test_dead_letters_matrix(world, dead, client_for, role):
    client = client_for(world.users[role])
    before = _denied()
    page = client.get("/admin/notifications/dead")
    retry = client.post(f"/admin/notifications/dead/{dead.id}/retry")
    if role == "admin":
        assert page.status_code == 200 and retry.status_code == 302
    else:
        assert page.status_code == 403 and retry.status_code == 403
        assert _denied() == before + 2


def test_admin_sees_a_dead_delivery_and_retries_it(world, dead, client_for, gateway):
    client = client_for(world.users["admin"])
    html = client.get("/admin/notifications/dead").get_data(as_text=True)
    assert "sms gateway 400" in html
    assert "0912345678" not in html and "84912345678" not in html
    assert client.post(f"/admin/notifications/dead/{dead.id}/retry").status_code == 302
    db.session.expire_all()
    row = db.session.get(Delivery, dead.id)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    assert "notification.delivery_retried" in audit_actions()
    assert delivery.deliver_due() == 1
    assert gateway.requests[-1]["headers"]["idempotency-key"] == row.idempotency_key
    again = client.post(f"/admin/notifications/dead/{dead.id}/retry")  # sent now: refused
    assert again.status_code == 302
    assert audit_actions().count("notification.delivery_retried") == 1


def test_an_unknown_dead_letter_is_not_found(world, client_for):
    client = client_for(world.users["admin"])
    assert client.post("/admin/notifications/dead/999999/retry").status_code == 404
