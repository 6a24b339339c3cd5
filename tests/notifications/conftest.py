"""Fixtures of the notification tests: the referral loop, the outside servers, channels on."""

from __future__ import annotations

import pytest

from app.extensions import db as _db
from app.notifications import preferences
from app.notifications.models import NotificationSettings
from tests.notifications.servers import gateway_server, smtp_server
from tests.referrals.conftest import Loop, actor, loop  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def _empty_job_queue(app):
    app.extensions["jobs"].jobs.clear()
    yield
    app.extensions["jobs"].jobs.clear()


@pytest.fixture
def smtp(app, monkeypatch):
    with smtp_server() as sink:
        monkeypatch.setitem(app.config, "NOTIFY_SMTP_HOST", "127.0.0.1")
        monkeypatch.setitem(app.config, "NOTIFY_SMTP_PORT", sink.port)
        monkeypatch.setitem(app.config, "NOTIFY_TIMEOUT", 2)
        yield sink


@pytest.fixture
def gateway(app, monkeypatch):
    with gateway_server() as gw:
        monkeypatch.setitem(app.config, "NOTIFY_SMS_URL", gw.url + "/sms")
        monkeypatch.setitem(app.config, "NOTIFY_SMS_TOKEN", "sms-token")
        monkeypatch.setitem(app.config, "NOTIFY_ZALO_URL", gw.url + "/zns")
        monkeypatch.setitem(app.config, "NOTIFY_ZALO_TOKEN", "zalo-token")
        monkeypatch.setitem(app.config, "NOTIFY_ZALO_TEMPLATE_ID", "123456")
        monkeypatch.setitem(app.config, "NOTIFY_TIMEOUT", 0.5)
        yield gw


def give_settings(user, *, channels=("email",), email=None, phone=None, quiet=False, digest=False):
    """Save a user's notification settings directly (the page has its own tests)."""
    row = NotificationSettings(
        user_id=user.id,
        channels=list(channels),
        muted_kinds=[],
        quiet_start=preferences.DEFAULT_QUIET[0] if quiet else None,
        quiet_end=preferences.DEFAULT_QUIET[1] if quiet else None,
        wants_digest=digest,
    )
    _db.session.add(row)
    _db.session.flush()
    preferences.set_contact(row, "email", email or f"{user.username}@example.org")
    preferences.set_contact(row, "phone", phone and preferences.normalize_phone(phone))
    _db.session.flush()
    return row


@pytest.fixture(autouse=True)
def _fresh_g(fresh_g_per_request):
    """Each test-client request starts with an empty `g`, as on a real server."""


@pytest.fixture
def client_for(app):
    """client_for(user): a fresh test client signed in as `user`."""
    from tests.conftest import sign_in

    def _client(user):
        client = app.test_client()
        response = sign_in(client, user.username)
        assert response.status_code == 302, response.status_code
        return client

    return _client
