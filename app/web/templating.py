"""Jinja filters and globals: Vietnamese dates, the actor, the navigation for each role."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from babel.numbers import get_decimal_symbol, get_group_symbol
from flask import Flask, current_app
from flask_babel import format_decimal, get_locale
from flask_babel import format_percent as babel_format_percent
from markupsafe import Markup, escape

from app.home.panels import panels_for
from app.i18n import LOCAL_TZ
from app.permissions import Role, current_actor
from app.roles_text import role_intro, role_label
from app.web import labels


def format_date(value: date | datetime | None) -> str:
    """dd/mm/yyyy in both languages: the way Vietnamese forms write dates (Vietnam's clock)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ).date()
    # The same digits in every language: no locale to look up (Babel took 30 µs a date).
    return f"{value.day:02d}/{value.month:02d}/{value.year:04d}"


def format_datetime(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM on Vietnam's clock, in both languages (a case page shows seventy)."""
    if value is None:
        return ""
    if value.tzinfo is None:  # stored times are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LOCAL_TZ).strftime("%d/%m/%Y %H:%M")


_SYMBOLS: dict[str, tuple[str, str, str]] = {}


def _number_symbols(locale) -> tuple[str, str, str]:
    """The locale's grouping symbol, decimal symbol and percent sign, looked up once: Babel
    took 30 µs a number, and a report shows a thousand."""
    name = str(locale)
    symbols = _SYMBOLS.get(name)
    if symbols is None:
        symbols = _SYMBOLS[name] = (
            get_group_symbol(locale),
            get_decimal_symbol(locale),
            babel_format_percent(0, "0%").removeprefix("0"),
        )
    return symbols


def format_number(value: int | float | None) -> str:
    """Thousands grouped for the user's locale: 2.000 in Vietnamese, 2,000 in English."""
    if value is None:
        return ""
    if isinstance(value, int) and (locale := get_locale()) is not None:
        # Whole numbers only need the locale's grouping symbol.
        return f"{value:,}".replace(",", _number_symbols(locale)[0])
    return format_decimal(value)


def format_percent(value: float | None, digits: int = 1) -> str:
    """A percentage (0-100) in the user's locale: 72,2 % in Vietnamese, 72.2% in English."""
    if value is None:
        return "—"
    locale = get_locale()
    space = "\u00a0" if str(locale) == "vi" else ""  # never broken from its number
    if value < 0 or locale is None:
        pattern = "#,##0." + "0" * digits if digits else "#,##0"
        return babel_format_percent(value / 100.0, pattern + space + "%")
    # Babel's own arithmetic (the decimal of value / 100, times 100, rounded half to even),
    # without its pattern machinery: 25 µs a percentage, 430 on a province dashboard.
    group, decimal, percent = _number_symbols(locale)
    scaled = (Decimal(str(value / 100.0)) * 100).quantize(
        Decimal(1).scaleb(-digits), ROUND_HALF_EVEN
    )
    text = f"{scaled:,.{digits}f}".translate({ord(","): group, ord("."): decimal})
    return text + space + percent


# A number in a figure computed as plain text: 2159, 2,159, 72.2%; not 1.198 (already grouped
# the Vietnamese way, or a decimal: it is left as it is).
_NUMBER = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(%?)(?![\d.,])")


def _localize(match: re.Match) -> str:
    whole, fraction, percent = match.group(1).replace(",", ""), match.group(2), match.group(3)
    if percent:
        return format_percent(float(f"{whole}.{fraction or 0}"), len(fraction or ""))
    if fraction:
        return match.group(0)
    return format_number(int(whole))


def format_figure(value) -> str:
    """A figure computed as plain text ("72.2%", "2159", "100.0% (5/5)", "<5", "—"; or a report
    cell with `.text`) shown in the user's locale: its numbers are regrouped, its words kept."""
    text = str(getattr(value, "text", value) if value is not None else "")
    number = getattr(value, "value", None)
    if isinstance(number, int | float) and float(number).is_integer():
        # A count grouped the Vietnamese way where it was made ("2.000"): the figure's own
        # number says it is two thousand, not two, so English pages can show "2,000".
        if text.replace(".", "") == str(int(number)):
            return format_number(int(number))
    return _NUMBER.sub(_localize, text)


_SUPPRESSED = Markup('<span class="suppressed">{}</span>')


def format_report_cell(cell) -> str:
    """A report cell: its figure in the user's locale, or its protected text marked as such."""
    if cell.suppressed:
        return _SUPPRESSED.format(cell.text)
    return format_figure(cell)


# Case codes and partner references inside a sentence ("Chuyển gửi NB-2026-00042 quá hạn") must
# not wrap mid-code on a phone: a code read in two pieces is a code copied wrong.
_WHOLE_CODE = re.compile(r"\b(?:[A-Z]{2}-\d{4}-\d{5}|(?:CG|KH)-[0-9A-Z]{4}-[0-9A-Z]{4})\b")


_ONE_LINE = Markup('<span class="mono">{}</span>')


def keep_codes_whole(text) -> Markup:
    """Escape `text` and keep every code in it on one line."""
    text = str(text if text is not None else "")
    parts, last = [], 0
    for match in _WHOLE_CODE.finditer(text):
        parts += [escape(text[last : match.start()]), _ONE_LINE.format(match.group(0))]
        last = match.end()
    parts.append(escape(text[last:]))
    return Markup("").join(parts)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["date_vn"] = format_date
    app.jinja_env.filters["datetime_vn"] = format_datetime
    app.jinja_env.filters["number"] = format_number
    app.jinja_env.filters["percent"] = format_percent
    app.jinja_env.filters["figure"] = format_figure
    app.jinja_env.filters["report_cell"] = format_report_cell
    app.jinja_env.filters["codes_whole"] = keep_codes_whole

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
