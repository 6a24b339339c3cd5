"""Configuration classes. Every value that differs between machines comes from the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("CAUNOI_INSTANCE_PATH", BASE_DIR / "instance"))


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_roles(name: str, default: str) -> frozenset[str]:
    raw = os.environ.get(name, default)
    return frozenset(r.strip() for r in raw.split(",") if r.strip())


def env_secret(name: str, default: str | None = None) -> str | None:
    """`name` from the environment, or the contents of the file `name`_FILE names (Docker and
    compose secrets, /run/secrets/...): secrets need not sit in the environment or a compose
    file."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def instance_secret(filename: str, instance_dir: Path = INSTANCE_DIR) -> str:
    """Read a secret from instance/, generating it once with 0600 permissions.

    Development convenience only: production must pass secrets through the environment.
    """
    path = instance_dir / filename
    if path.exists():
        return path.read_text().strip()
    instance_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(instance_dir, 0o700)  # the folder holding secrets is the owner's alone
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(value)
    return value


class Config:
    ENV_NAME = "base"
    DEBUG = False
    TESTING = False
    SECRET_KEY: str | None = env_secret("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = env_secret(
        "DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'caunoi.sqlite3'}"
    )
    # No ping before each checkout on either database: a SQLite file cannot drop the connection,
    # and PostgreSQL's is set per connection in app.configure_engine.
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": False}
    # PostgreSQL cancels any statement running longer (milliseconds): none holds locks for minutes.
    DATABASE_STATEMENT_TIMEOUT_MS = int(os.environ.get("DATABASE_STATEMENT_TIMEOUT_MS", "30000"))
    # Key file (master keys, blind-index key, audit key): outside the database, never committed.
    CAUNOI_KEY_FILE = os.environ.get("CAUNOI_KEY_FILE", str(INSTANCE_DIR / "keys.json"))
    CAUNOI_KEYS_ENV = "CAUNOI_KEYS"
    # Signed checkpoints of every audit shard head, outside the database (app/audit/checkpoints.py),
    # written by the job `audit-checkpoint`, on every report export, by `flask audit checkpoint`.
    AUDIT_CHECKPOINT_FILE = os.environ.get(
        "AUDIT_CHECKPOINT_FILE", str(INSTANCE_DIR / "audit-checkpoints.log")
    )

    # Sessions: the signed cookie only carries an opaque token; the session lives in the database.
    SESSION_COOKIE_NAME = "caunoi_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", False)
    SESSION_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", "15")))
    # Intake and note pages: an interview is longer than the usual idle limit.
    SESSION_FORM_IDLE_TIMEOUT = timedelta(
        minutes=int(os.environ.get("SESSION_FORM_IDLE_MINUTES", "60"))
    )
    # The page warns this long before the idle limit, with "Tiếp tục làm việc".
    SESSION_IDLE_WARNING = timedelta(minutes=2)
    SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", "12")))
    REMEMBER_COOKIE_DURATION = timedelta(seconds=0)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)

    WTF_CSRF_TIME_LIMIT = 3600
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")

    # Sign-in throttling (Flask-Limiter); Redis in production so every app server shares it.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = False
    RATELIMIT_ENABLED = True
    SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS = os.environ.get(
        "SIGNIN_LIMIT_PER_ACCOUNT_ADDRESS", "5 per minute;20 per hour"
    )
    SIGNIN_LIMIT_PER_ACCOUNT = os.environ.get("SIGNIN_LIMIT_PER_ACCOUNT", "50 per hour")
    SIGNIN_LIMIT_PER_ADDRESS = os.environ.get(
        "SIGNIN_LIMIT_PER_ADDRESS", "30 per minute;300 per day"
    )
    MFA_LIMIT_PER_ACCOUNT = os.environ.get("MFA_LIMIT_PER_ACCOUNT", "5 per minute;20 per hour")

    # Roles that must use TOTP two-factor.
    MFA_REQUIRED_ROLES = _env_roles("MFA_REQUIRED_ROLES", "admin,supervisor,auditor,caseworker")

    # argon2id cost (RFC 9106 second recommended option is the library default).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    # Disclosure control for supervisors' figures.
    SUPPRESSION_K = int(os.environ.get("SUPPRESSION_K", "5"))

    # A scanned consent or document attached to a case (PDF, JPEG, PNG), encrypted.
    CASE_ATTACHMENT_MAX_BYTES = int(os.environ.get("CASE_ATTACHMENT_MAX_BYTES", "5242880"))

    # Job engine (app/jobs): RQ on Redis when JOBS_REDIS_URL is set, else in-process threads.
    JOBS_BACKEND = os.environ.get("JOBS_BACKEND", "auto")
    JOBS_REDIS_URL = os.environ.get("JOBS_REDIS_URL")
    JOBS_QUEUE = os.environ.get("JOBS_QUEUE", "caunoi")

    # Notifications leaving the system (app/notifications): each channel is on when configured.
    NOTIFY_PUBLIC_URL = os.environ.get("NOTIFY_PUBLIC_URL", "http://127.0.0.1:5000")
    NOTIFY_SMTP_HOST = os.environ.get("NOTIFY_SMTP_HOST")
    NOTIFY_SMTP_PORT = int(os.environ.get("NOTIFY_SMTP_PORT", "25"))
    NOTIFY_SMTP_STARTTLS = _env_bool("NOTIFY_SMTP_STARTTLS", False)
    NOTIFY_SMTP_USERNAME = os.environ.get("NOTIFY_SMTP_USERNAME")
    NOTIFY_SMTP_PASSWORD = os.environ.get("NOTIFY_SMTP_PASSWORD")
    NOTIFY_MAIL_FROM = os.environ.get("NOTIFY_MAIL_FROM", "Cầu Nối <no-reply@localhost>")
    NOTIFY_SMS_URL = os.environ.get("NOTIFY_SMS_URL")
    NOTIFY_SMS_TOKEN = os.environ.get("NOTIFY_SMS_TOKEN")
    NOTIFY_ZALO_URL = os.environ.get("NOTIFY_ZALO_URL")
    NOTIFY_ZALO_TOKEN = os.environ.get("NOTIFY_ZALO_TOKEN")
    NOTIFY_ZALO_TEMPLATE_ID = os.environ.get("NOTIFY_ZALO_TEMPLATE_ID", "")
    NOTIFY_TIMEOUT = float(os.environ.get("NOTIFY_TIMEOUT", "10"))
    NOTIFY_CLAIM_SECONDS = int(os.environ.get("NOTIFY_CLAIM_SECONDS", "300"))
    NOTIFY_BATCH = int(os.environ.get("NOTIFY_BATCH", "200"))

    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    MAX_CONTENT_LENGTH = 10 * 1024 * 1024


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = _env_bool("FLASK_DEBUG", False)
    MFA_REQUIRED_ROLES = _env_roles("MFA_REQUIRED_ROLES", "")

    def __init__(self) -> None:
        if not self.SECRET_KEY:
            self.SECRET_KEY = instance_secret("secret_key")


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "test-secret-key-not-for-production"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    MFA_REQUIRED_ROLES = frozenset()
    RATELIMIT_STORAGE_URI = "memory://"
    JOBS_BACKEND = "memory"  # jobs wait for app.jobs.drain()
    AUDIT_CHECKPOINT_FILE = ""  # tests that need one set it under their tmp_path
    NOTIFY_SMTP_HOST = NOTIFY_SMS_URL = NOTIFY_ZALO_URL = None  # tests turn channels on
    # Cheap hashes keep the suite fast; production uses the defaults above.
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1


class ProductionConfig(Config):
    ENV_NAME = "production"
    SESSION_COOKIE_SECURE = _env_bool("SESSION_COOKIE_SECURE", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "")

    @classmethod
    def problems(cls, app_config: dict) -> list[str]:
        """Reasons this configuration must not serve real data, one line each."""
        found = []
        if app_config.get("DEBUG"):
            found.append("debug mode is on (unset FLASK_DEBUG)")
        if not app_config.get("SECRET_KEY"):
            found.append("SECRET_KEY is not set in the environment")
        elif len(app_config["SECRET_KEY"]) < 32:
            found.append("SECRET_KEY is too short (use at least 32 random characters)")
        if not app_config.get("SESSION_COOKIE_SECURE"):
            found.append("SESSION_COOKIE_SECURE is off: session cookies would travel without HTTPS")
        if not app_config.get("RATELIMIT_STORAGE_URI"):
            found.append(
                "RATELIMIT_STORAGE_URI is not set (e.g. redis://127.0.0.1:6379): "
                "sign-in throttling must be shared by every app server"
            )
        if not app_config.get("JOBS_REDIS_URL") and app_config.get("JOBS_BACKEND") != "rq":
            found.append(
                "JOBS_REDIS_URL is not set (e.g. redis://127.0.0.1:6379/0): notifications and "
                "scheduled jobs need the RQ worker and scheduler"
            )
        return found


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    return CONFIGS[os.environ.get("CAUNOI_ENV", "development")]
