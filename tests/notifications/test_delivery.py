"""The worker: e-mail through a local SMTP server, SMS and Zalo through a local gateway;
retries with backoff, dead letters, quiet hours, bad addresses, and nothing identifying out."""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import sqlalchemy as sa

from app.db import utcnow
from app.extensions import db
from app.i18n import LOCAL_TZ
from app.notifications import delivery
from app.notifications.models import Delivery, DeliveryStatus, Notification
from app.referrals import services
from tests.notifications.conftest import give_settings
from tests.referrals.conftest import actor


def _send(loop, world):
    cw = actor(world.users["caseworker"])
    referral = services.create_referral(cw, loop.case, loop.need, loop.hiv_testing, fields=["need"])
    services.send_referral(cw, referral)
    db.session.commit()
    return referral


def _deliveries() -> list[Delivery]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Delivery).order_by(Delivery.id)))


def test_an_email_arrives_saying_only_that_there_is_something_to_see(loop, world, smtp):
    give_settings(loop.partner, email="doi.tac@example.org")
    referral = _send(loop, world)
    assert delivery.deliver_due() == 1
    [message] = smtp.messages
    assert message["To"] == "doi.tac@example.org"
    body = message.get_content()
    assert "Có 1 chuyển gửi mới đang chờ cơ sở của bạn." in body
    note = db.session.scalar(sa.select(Notification))
    assert f"/notifications/{note.id}/open" in body
    assert f"/referrals/{referral.id}" not in body
    [d] = _deliveries()
    assert d.status == DeliveryStatus.SENT and d.attempts == 1
    assert message["Message-ID"] == f"<{d.idempotency_key}@caunoi>"
    assert delivery.deliver_due() == 0  # exactly once


def test_the_count_is_of_her_unread_notifications_of_that_kind(loop, world, smtp):
    give_settings(loop.partner)
    _send(loop, world)
    _send(loop, world)
    assert delivery.deliver_due() == 2
    assert "Có 2 chuyển gửi mới" in smtp.messages[-1].get_content()


def test_sms_and_zalo_carry_the_idempotency_key(loop, world, gateway):
    give_settings(loop.partner, channels=("sms", "zalo"), phone="0912 345 678")
    _send(loop, world)
    assert delivery.deliver_due() == 2
    by_path = {r["path"]: r for r in gateway.requests}
    sms, zns = by_path["/sms"], by_path["/zns"]
    keys = {d.channel: d.idempotency_key for d in _deliveries()}
    assert sms["headers"]["idempotency-key"] == keys["sms"] == sms["body"]["idempotency_key"]
    assert sms["headers"]["authorization"] == "Bearer sms-token"
    assert sms["body"]["to"] == "84912345678"
    assert zns["body"]["tracking_id"] == keys["zalo"]
    assert zns["body"]["phone"] == "84912345678"
    assert zns["body"]["template_id"] == "123456"
    assert zns["headers"]["access_token"] == "zalo-token"


def test_a_gateway_that_answers_5xx_delays_with_backoff_then_gives_up(loop, world, gateway):
    give_settings(loop.partner, channels=("sms",), phone="0912345678")
    gateway.mode = "fail500"
    referral = _send(loop, world)
    assert referral.status == "requested"  # the user's action did not wait or fail
    now = utcnow()
    for attempt, minutes in enumerate(delivery.BACKOFF_MINUTES, start=1):
        assert delivery.deliver_due(now=now) == 0
        [d] = _deliveries()
        assert d.attempts == attempt
        if attempt < len(delivery.BACKOFF_MINUTES):
            assert d.status == DeliveryStatus.PENDING
            assert d.next_attempt_at >= now + timedelta(minutes=minutes) - timedelta(seconds=5)
            assert delivery.deliver_due(now=now) == 0  # not before its time
            now = d.next_attempt_at + timedelta(seconds=1)
    assert d.status == DeliveryStatus.DEAD and "500" in d.last_error
    gateway.mode = "ok"
    assert delivery.deliver_due(now=now + timedelta(days=1)) == 0  # dead stays dead


def test_a_slow_gateway_times_out_and_is_retried(loop, world, gateway):
    give_settings(loop.partner, channels=("sms",), phone="0912345678")
    gateway.mode = "slow"
    _send(loop, world)
    started = time.monotonic()
    assert delivery.deliver_due() == 0
    assert time.monotonic() - started < 1.9  # the 0.5 s time-out, not the gateway's 2 s
    [d] = _deliveries()
    assert d.status == DeliveryStatus.PENDING and d.attempts == 1
    assert "TimeoutError" in d.last_error or "timeout" in d.last_error.lower()


def test_smtp_down_delays_and_the_referral_still_goes(app, loop, world, monkeypatch):
    from tests.notifications.servers import free_port

    monkeypatch.setitem(app.config, "NOTIFY_SMTP_HOST", "127.0.0.1")
    monkeypatch.setitem(app.config, "NOTIFY_SMTP_PORT", free_port())  # nobody listens
    give_settings(loop.partner)
    give_settings(loop.partner_b)
    referral = _send(loop, world)
    assert referral.status == "requested"
    assert delivery.deliver_due() == 0
    [d] = _deliveries()
    assert d.status == DeliveryStatus.PENDING and "smtp connect" in d.last_error


def test_a_refused_number_is_reported_on_her_settings_page(loop, world, gateway, client, login_as):
    give_settings(loop.partner, channels=("sms",), phone="0912345678")
    gateway.mode = "bad400"
    _send(loop, world)
    assert delivery.deliver_due() == 0
    [d] = _deliveries()
    assert d.status == DeliveryStatus.DEAD
    login_as(loop.partner)
    page = client.get("/notifications/settings").get_data(as_text=True)
    assert "Số điện thoại của bạn đã bị cổng SMS/Zalo từ chối" in page


def test_zalo_invalid_number_is_a_bad_address(loop, world, gateway):
    from app.notifications.models import NotificationSettings

    give_settings(loop.partner, channels=("zalo",), phone="0912345678")
    gateway.mode = "zalo_bad_number"
    _send(loop, world)
    delivery.deliver_due()
    [d] = _deliveries()
    assert d.status == DeliveryStatus.DEAD
    row = db.session.scalar(sa.select(NotificationSettings))
    assert row.phone_problem


def test_a_refused_email_recipient_is_dead_at_once(loop, world, smtp):
    give_settings(loop.partner, email="refused@example.org")
    _send(loop, world)
    delivery.deliver_due()
    [d] = _deliveries()
    assert d.status == DeliveryStatus.DEAD and d.attempts == 1


def test_quiet_hours_hold_messages_until_seven(loop, world, smtp, monkeypatch):
    give_settings(loop.partner, quiet=True)
    late = datetime(2026, 3, 2, 22, 15, tzinfo=LOCAL_TZ)
    monkeypatch.setattr("app.notifications.outbox.utcnow", lambda: late)
    _send(loop, world)
    [d] = _deliveries()
    assert d.next_attempt_at == datetime(2026, 3, 3, 7, 0, tzinfo=LOCAL_TZ)
    assert delivery.deliver_due(now=datetime(2026, 3, 3, 6, 59, tzinfo=LOCAL_TZ)) == 0
    assert smtp.messages == []
    assert delivery.deliver_due(now=datetime(2026, 3, 3, 7, 0, tzinfo=LOCAL_TZ)) == 1
    assert len(smtp.messages) == 1


def test_a_message_read_in_the_app_before_it_is_due_is_not_sent(loop, world, smtp, monkeypatch):
    give_settings(loop.partner, quiet=True)
    monkeypatch.setattr(
        "app.notifications.outbox.utcnow",
        lambda: datetime(2026, 3, 2, 22, 15, tzinfo=LOCAL_TZ),
    )
    _send(loop, world)
    note = db.session.scalar(sa.select(Notification))
    note.read_at = utcnow()
    db.session.commit()
    assert delivery.deliver_due(now=datetime(2026, 3, 3, 7, 5, tzinfo=LOCAL_TZ)) == 0
    assert smtp.messages == []
    assert _deliveries()[0].status == DeliveryStatus.SKIPPED


def test_preferences_are_honoured(loop, world, smtp):
    row = give_settings(loop.partner)
    row.muted_kinds = ["referral.new"]
    db.session.flush()
    _send(loop, world)
    assert _deliveries() == []  # in the inbox only
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notification)) == 1


def test_digest_users_get_no_immediate_message(loop, world, smtp):
    give_settings(loop.partner, digest=True)
    _send(loop, world)
    assert _deliveries() == []


def test_an_unconfigured_channel_is_not_used(loop, world):
    give_settings(loop.partner, channels=("email", "sms"), phone="0912345678")
    _send(loop, world)
    assert _deliveries() == []  # tests start with no SMTP host and no gateway


def test_a_claimed_row_is_left_alone_until_its_claim_expires(app, loop, world, smtp):
    give_settings(loop.partner)
    _send(loop, world)
    [d] = _deliveries()
    d.claimed_until = utcnow() + timedelta(minutes=5)  # another worker has it
    db.session.commit()
    assert delivery.deliver_due() == 0
    assert delivery.deliver_due(now=utcnow() + timedelta(minutes=6)) == 1
