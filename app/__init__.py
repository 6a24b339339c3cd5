"""Cầu Nối application factory."""

from __future__ import annotations

import importlib
import logging
import os

from flask import Flask

from config import Config, ProductionConfig, config_from_env

# Each module owns a blueprint in <module>/routes.py (and optionally api.py and cli.py).
MODULES = (
    "home",
    "auth",
    "orgs",
    "audit",
    "crypto",
    "cases",
    "referrals",
    "outreach",
    "reports",
    "training",
    "jobs",
    "notifications",
    "followups",
    "imports",
)


class ConfigurationError(SystemExit):
    """Raised at start-up with a one-line reason when the configuration is unsafe."""


def create_app(config_class: type[Config] | None = None) -> Flask:
    config_class = config_class or config_from_env()
    app = Flask(__name__, instance_path=os.environ.get("CAUNOI_INSTANCE_PATH"))
    app.config.from_object(config_class() if _needs_instance(config_class) else config_class)
    _prepare_instance(app)
    _check_production(app, config_class)
    register_logging(app)
    register_extensions(app)
    register_request_hooks(app)  # first, so its before_request runs before the modules' hooks
    register_blueprints(app)
    register_cli(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_tasks(app)
    from app.crypto.startup import check_key_versions

    check_key_versions(app)
    return app


def configure_engine(app: Flask) -> None:
    """PostgreSQL: settings per connection, never per request. `jit` off (it costs more than our
    short queries run), a statement_timeout so that no statement holds locks for minutes, every
    statement planned for its own values (psycopg prepares what runs five times, and the generic
    plan PostgreSQL then picks for the caseworker's "my cases" read a province: 6 -> 44 ms at a
    million cases), and no ping before each checkout (a connection that died answers 503 once,
    see app/web/errors)."""
    from sqlalchemy.engine import make_url

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() != "postgresql":
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    options["pool_pre_ping"] = False
    options.setdefault("pool_recycle", 1800)
    connect_args = dict(options.get("connect_args") or {})
    timeout_ms = int(app.config["DATABASE_STATEMENT_TIMEOUT_MS"])
    settings = (
        f"-c jit=off -c statement_timeout={timeout_ms} -c plan_cache_mode=force_custom_plan"
    )
    connect_args["options"] = f"{connect_args.get('options', '')} {settings}".strip()
    options["connect_args"] = connect_args
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def _prepare_instance(app: Flask) -> None:
    """instance/ 0700 and a SQLite database file 0600 before SQLite first writes to it."""
    from sqlalchemy.engine import make_url

    from app.private_files import prepare_sqlite_file, private_dir

    private_dir(app.instance_path)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        # Flask-SQLAlchemy reads a relative SQLite path from the instance folder.
        prepare_sqlite_file(url.database, relative_to=app.instance_path)


def _needs_instance(config_class) -> bool:
    # DevelopmentConfig generates its secret in __init__; the others are plain class config.
    return "__init__" in config_class.__dict__


def _check_production(app: Flask, config_class) -> None:
    if not issubclass(config_class, ProductionConfig):
        return
    from flask.helpers import get_debug_flag

    # `flask run` turns the debugger on from FLASK_DEBUG whatever the config class says.
    problems = ProductionConfig.problems({**app.config, "DEBUG": app.debug or get_debug_flag()})
    if problems:
        raise ConfigurationError("Cầu Nối refuses to start in production: " + "; ".join(problems))


def register_logging(app: Flask) -> None:
    logging.basicConfig(
        level=app.config["LOG_LEVEL"], format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    # Alembic says at INFO which plugins and migrations it runs: noise on every start-up.
    logging.getLogger("alembic").setLevel(logging.WARNING)


def register_extensions(app: Flask) -> None:
    from app.extensions import babel, csrf, db, limiter, login_manager, migrate
    from app.i18n import select_locale, translation_directories

    configure_engine(app)
    db.init_app(app)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(__file__), "..", "migrations"),
        render_as_batch=True,
    )
    login_manager.init_app(app)
    login_manager.session_protection = None  # our server-side sessions do better than its hash
    csrf.init_app(app)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(translation_directories())
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    from app.jobs import engine as jobs_engine

    jobs_engine.init_app(app)

    import app.auth.guards  # noqa: F401  (registers the user loader)

    for module in MODULES:
        _import_optional(f"app.{module}.models")


def _import_optional(name: str):
    """Import a module's part if the module has it (not every module has an API or a CLI)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is None or not name.startswith(exc.name):
            raise
        return None


def register_blueprints(app: Flask) -> None:
    from app.web.params import IdConverter

    # Before any rule is added: every <int:...> in a URL is a bounded id (app/web/params.py).
    app.url_map.converters["int"] = IdConverter
    for module in MODULES:
        for part in ("routes", "api", "fhir_api", "hsds_routes", "official_routes"):
            mod = _import_optional(f"app.{module}.{part}")
            if mod is not None:
                app.register_blueprint(mod.bp)


def register_cli(app: Flask) -> None:
    for module in MODULES:
        mod = _import_optional(f"app.{module}.cli")
        if mod is not None:
            for command in mod.commands:
                app.cli.add_command(command)


def register_tasks(app: Flask) -> None:
    """Each module's periodic jobs (`app/<module>/tasks.py` calls `app.jobs.every`)."""
    for module in MODULES:
        _import_optional(f"app.{module}.tasks")


def register_request_hooks(app: Flask) -> None:
    from app.web import security, transactions

    security.init_app(app)
    transactions.init_app(app)


def register_errorhandlers(app: Flask) -> None:
    from app.web import errors

    errors.init_app(app)


def register_template_helpers(app: Flask) -> None:
    from app.web import forms, fragments, templating

    templating.init_app(app)
    fragments.init_app(app)
    forms.init_app(app)
