"""Jinja filters and globals: Vietnamese dates, the actor, the navigation for each role."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask, current_app
from flask_babel import get_locale

from app.home.panels import panels_for
from app.i18n import LOCAL_TZ
from app.permissions import Role, current_actor
from app.roles_text import role_intro, role_label
from app.web import labels


def format_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy, the way Vietnamese forms write dates."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ).date()
    return value.strftime("%d/%m/%Y")


def format_datetime(value: datetime | None) -> str:
    if value is None:
        return ""
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


def format_number(value: int | float | None) -> str:
    if value is None:
        return ""
    text = f"{value:,}"
    # Vietnamese groups thousands with a dot.
    return text.replace(",", ".") if str(get_locale()) == "vi" else text


def init_app(app: Flask) -> None:
    app.jinja_env.filters["date_vn"] = format_date
    app.jinja_env.filters["datetime_vn"] = format_datetime
    app.jinja_env.filters["number"] = format_number

    @app.context_processor
    def inject_globals():
        return {
            "actor": current_actor(),
            "Role": Role,
            "current_locale": str(get_locale()),
            "app_languages": current_app.config["LANGUAGES"],
            "role_label": role_label,
            "role_intro": role_intro,
            "nav_items": lambda: [p for p in panels_for(current_actor()) if p.order < 80],
            **labels.TEMPLATE_LABELS,
        }
