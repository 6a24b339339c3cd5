"""The deployment kit (deploy/): Docker cannot run here, so its structure is checked instead:
the compose file parses, starts what production needs, takes every secret from a file, and the
proxy checks the app servers' health endpoint."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml", reason="pyyaml is a test extra: pip install -e '.[test]'")

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
SECRET_WORDS = re.compile(r"(password|secret|key|token)", re.IGNORECASE)


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())


def test_services_production_needs(compose):
    services = compose["services"]
    assert {"db", "redis", "app1", "app2", "caddy", "worker", "scheduler", "migrate"} <= set(
        services
    )
    assert services["db"]["image"].startswith("postgres:")
    assert services["redis"]["image"].startswith("redis:")
    for name in ("app1", "app2"):
        assert "gunicorn" in services[name]["command"]
        assert "/health" in " ".join(services[name]["healthcheck"]["test"])
    assert services["worker"]["command"][-2:] == ["jobs", "worker"]
    assert services["scheduler"]["command"][-2:] == ["jobs", "scheduler"]
    assert services["app1"]["environment"]["CAUNOI_ENV"] == "production"


def test_no_secret_in_the_compose_file(compose):
    declared = compose["secrets"]
    assert all(set(spec) == {"file"} for spec in declared.values())
    for name, service in compose["services"].items():
        for key, value in (service.get("environment") or {}).items():
            if SECRET_WORDS.search(key):
                assert key.endswith("_FILE") or key == "CAUNOI_KEY_FILE", (name, key)
                assert str(value).startswith("/run/secrets/"), (name, key)
            assert "://" not in str(value) or "@" not in str(value), (name, key)
        for secret in service.get("secrets", []):
            assert secret in declared
    text = (DEPLOY / "compose.yaml").read_text()
    assert "postgresql+psycopg://" not in text


def test_secret_files_are_never_committed():
    assert (DEPLOY / "secrets" / ".gitignore").read_text().split() == ["*", "!.gitignore"]


def test_caddy_serves_https_with_its_internal_ca_and_checks_health():
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    assert "tls internal" in caddyfile
    assert "reverse_proxy app1:8000 app2:8000" in caddyfile
    assert "health_uri /health" in caddyfile


def test_config_reads_secrets_from_files(tmp_path, monkeypatch):
    from config import env_secret

    secret = tmp_path / "secret_key"
    secret.write_text("from-a-file\n")
    monkeypatch.setenv("SECRET_KEY_FILE", str(secret))
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert env_secret("SECRET_KEY") == "from-a-file"
    monkeypatch.delenv("SECRET_KEY_FILE")
    assert env_secret("SECRET_KEY") == "from-the-environment"


def test_health_answers_while_the_database_does(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.json == {"status": "ok"}
