"""Sign-in throttling: failed attempts only, per account, per address and per both."""

from __future__ import annotations

import json
import secrets
import socket

import limits.storage.memory
import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.auth import throttle
from app.extensions import db, limiter
from tests.conftest import audit_actions, sign_in

WRONG = "not the right password"
THROTTLED = "Bạn đã thử quá nhiều lần"


def _from(client, address: str):
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_limits_come_from_the_configuration(app):
    assert app.config["SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS"] == "5 per minute;20 per hour"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"


def test_repeated_failures_are_throttled_with_a_vietnamese_page(client, world):
    for _ in range(5):
        assert sign_in(client, "caseworker", WRONG).status_code == 401
    response = sign_in(client, "caseworker", WRONG)
    assert response.status_code == 429
    assert THROTTLED in response.get_data(as_text=True)
    # While throttled even the right password is not tried (no oracle for the attacker).
    assert sign_in(client, "caseworker").status_code == 429
    event = (
        db.session.execute(sa.select(AuditEvent).where(AuditEvent.action == "auth.throttled"))
        .scalars()
        .first()
    )
    assert event is not None and event.outcome == "denied" and event.object_ref == "caseworker"
    assert json.loads(event.details)["via"] == "auth.sign_in"
    # Another account from the same address is not affected by this account's limit.
    assert sign_in(client, "volunteer").status_code == 302


def test_successful_sign_ins_do_not_count(client, world, app):
    for _ in range(8):
        fresh = app.test_client()
        assert sign_in(fresh, "caseworker").status_code == 302
    for _ in range(5):
        assert sign_in(client, "caseworker", WRONG).status_code == 401
    assert sign_in(client, "caseworker", WRONG).status_code == 429


def test_empty_or_refused_forms_do_not_count_but_unknown_users_do(client, world):
    for _ in range(8):
        assert client.post("/auth/sign-in", data={"username": "x"}).status_code == 400
    for _ in range(5):
        assert sign_in(client, "nobody-here", WRONG).status_code == 401
    assert sign_in(client, "nobody-here", WRONG).status_code == 429
    assert "auth.throttled" in audit_actions()


def test_per_account_limit_spans_addresses(client, world, config_override):
    config_override(SIGNIN_LIMIT_PER_ACCOUNT="3 per hour")
    for i in range(3):
        response = sign_in(client, "caseworker", WRONG, **_from(client, f"192.0.2.{i + 1}"))
        assert response.status_code == 401
    blocked = sign_in(client, "caseworker", WRONG, **_from(client, "192.0.2.99"))
    assert blocked.status_code == 429


def test_per_address_limit_spans_accounts(client, world, config_override):
    config_override(SIGNIN_LIMIT_PER_ADDRESS="3 per minute")
    for name in ("caseworker", "volunteer", "partner"):
        assert sign_in(client, name, WRONG).status_code == 401
    assert sign_in(client, "supervisor", WRONG).status_code == 429
    other_address = sign_in(client, "supervisor", WRONG, **_from(client, "198.51.100.4"))
    assert other_address.status_code == 401


def test_windows_expire_by_themselves(client, world, monkeypatch):
    """No hard lockout: once the minute has passed, the account can be tried again."""
    for _ in range(5):
        sign_in(client, "caseworker", WRONG)
    assert sign_in(client, "caseworker", WRONG).status_code == 429

    real_time = limits.storage.memory.time

    class Later:
        @staticmethod
        def time():
            return real_time.time() + 61

    monkeypatch.setattr(limits.storage.memory, "time", Later)
    assert sign_in(client, "caseworker").status_code == 302


def test_the_get_page_is_never_throttled(client, world):
    for _ in range(5):
        sign_in(client, "caseworker", WRONG)
    assert sign_in(client, "caseworker", WRONG).status_code == 429
    assert client.get("/auth/sign-in").status_code == 200


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@pytest.mark.skipif(not _redis_answers(), reason="no Redis answering on 127.0.0.1:6379")
def test_throttling_works_with_redis_storage(app, client, world):
    """Production shares the counts between app servers through Redis."""
    import redis

    uri = "redis://127.0.0.1:6379"
    username = f"redis-probe-{secrets.token_hex(6)}"
    address = f"203.0.113.{secrets.randbelow(250) + 1}"
    keys = [throttle.account_key(username), throttle.account_address_key(username, address)]
    saved = app.config["RATELIMIT_STORAGE_URI"]
    app.config["RATELIMIT_STORAGE_URI"] = uri
    limiter.init_app(app)  # the same app: hooks are not added twice, only the storage changes
    server = redis.Redis.from_url(uri)
    try:
        assert type(limiter.storage).__name__ == "RedisStorage"
        for _ in range(5):
            assert sign_in(client, username, WRONG, **_from(client, address)).status_code == 401
        assert any(server.scan_iter(f"*{keys[1]}*")), "the counts are not in Redis"
        assert sign_in(client, username, WRONG, **_from(client, address)).status_code == 429
    finally:
        for key in keys:
            for found in server.scan_iter(f"*{key}*"):
                server.delete(found)
        server.close()
        app.config["RATELIMIT_STORAGE_URI"] = saved
        limiter.init_app(app)
    assert type(limiter.storage).__name__ == "MemoryStorage"
