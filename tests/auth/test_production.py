"""Production refuses to start with an unsafe configuration, each time with a one-line reason."""

from __future__ import annotations

import pytest

from app import ConfigurationError, create_app
from app.crypto.keyring import Keyring, write_key_file
from app.extensions import db, limiter
from config import ProductionConfig

GOOD_SECRET = "k" * 48


def _production(tmp_path, **overrides) -> type[ProductionConfig]:
    key_file = tmp_path / "keys.json"
    if not key_file.exists():
        write_key_file(key_file, Keyring.generate())
    values = {
        "DEBUG": False,
        "SECRET_KEY": GOOD_SECRET,
        "SESSION_COOKIE_SECURE": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        "JOBS_REDIS_URL": "redis://127.0.0.1:6379/15",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/prod.sqlite3",
        "CAUNOI_KEY_FILE": str(key_file),
    }
    values.update(overrides)
    return type("TestProductionConfig", (ProductionConfig,), values)


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"DEBUG": True}, "debug mode is on"),
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": ""}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY is too short"),
        ({"SESSION_COOKIE_SECURE": False}, "SESSION_COOKIE_SECURE is off"),
        ({"RATELIMIT_STORAGE_URI": ""}, "RATELIMIT_STORAGE_URI is not set"),
        ({"JOBS_REDIS_URL": None}, "JOBS_REDIS_URL is not set"),
    ],
)
def test_production_refuses_unsafe_settings(tmp_path, monkeypatch, overrides, reason):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigurationError) as refused:
        create_app(_production(tmp_path, **overrides))
    message = str(refused.value)
    assert message.startswith("Cầu Nối refuses to start in production: ")
    assert reason in message
    assert "\n" not in message
    # Exactly the one problem named.
    assert message.count(";") == 0


def test_flask_debug_in_the_environment_is_refused_too(tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigurationError, match="debug mode is on"):
        create_app(_production(tmp_path))


def test_every_problem_is_named_at_once(tmp_path, monkeypatch):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    config = _production(tmp_path, DEBUG=True, SECRET_KEY=None, SESSION_COOKIE_SECURE=False)
    with pytest.raises(ConfigurationError) as refused:
        create_app(config)
    assert str(refused.value).count(";") == 2


def test_production_defaults_are_safe(monkeypatch):
    monkeypatch.delenv("SESSION_COOKIE_SECURE", raising=False)
    assert ProductionConfig.SESSION_COOKIE_SECURE is True
    assert ProductionConfig.DEBUG is False
    assert ProductionConfig.SESSION_COOKIE_HTTPONLY is True
    assert ProductionConfig.SESSION_COOKIE_SAMESITE in ("Lax", "Strict")


def test_safe_production_starts_and_sets_a_secure_cookie(tmp_path, monkeypatch, app):
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    prod = create_app(_production(tmp_path))
    try:
        response = prod.test_client().post(
            "/language", data={"lang": "en", "next": "/"}, base_url="https://localhost"
        )
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert "Strict-Transport-Security" in response.headers
    finally:
        with prod.app_context():
            db.engine.dispose()
        limiter.init_app(app)  # give the shared limiter back to the test app's storage
