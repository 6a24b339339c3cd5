"""Outreach fixtures: a frozen clock and a valid entry to start from."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from app.outreach import services

# Noon in Ninh Bình, a Wednesday.
NOW = datetime(2026, 6, 10, 5, 0, tzinfo=UTC)
TODAY = date(2026, 6, 10)


class Clock:
    def __init__(self, now: datetime):
        self.now = now

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(monkeypatch):
    """Freeze the outreach module's clock; `clock.advance(days=8)` moves it."""
    c = Clock(NOW)
    monkeypatch.setattr(services, "now", lambda: c.now)
    return c


def payload(org_unit_id=None, **overrides) -> dict:
    """A valid JSON entry (the API shape)."""
    data = {
        "idempotency_key": overrides.pop("idempotency_key", "k" * 32),
        "held_on": TODAY.isoformat(),
        "form": "group_talk",
        "topics": ["hiv_sti", "trafficking"],
        "place": "industrial_zone",
        "reached_industrial_workers": 40,
        "reached_public": 5,
        "partners_involved": "Trạm y tế xã",
        "notes": "",
    }
    if org_unit_id is not None:
        data["org_unit_id"] = org_unit_id
    data.update(overrides)
    return data


def form_data(org_unit_id, **overrides) -> dict:
    """The same entry as the page posts it."""
    data = payload(org_unit_id, **overrides)
    data["topics"] = list(data["topics"])
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def client_for(app):
    """client_for(user): a fresh test client signed in as `user` (one browser per person)."""
    from tests.conftest import sign_in

    def _client(user):
        client = app.test_client()
        response = sign_in(client, user.username)
        assert response.status_code == 302, response.status_code
        return client

    return _client


@pytest.fixture(autouse=True)
def fresh_actor_per_request(monkeypatch):
    """The shared `db` fixture keeps one app context open for the whole test, and Flask reuses
    it for every test-client request, so `g.actor` (current_actor) and `g._login_user`
    (Flask-Login) would leak from one signed-in client to the next. A real request starts clean."""
    from flask import g
    from flask.testing import FlaskClient

    original = FlaskClient.open

    def open_clean(self, *args, **kwargs):
        g.pop("actor", None)
        g.pop("_login_user", None)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(FlaskClient, "open", open_clean)
