"""The fixed periods reports are made for: a year, a half-year; and the reports' due dates."""

from __future__ import annotations

import re
from datetime import date, datetime

from flask_babel import gettext as _

from app.i18n import LOCAL_TZ
from app.reports.indicators import Period, fixed_period

REPORT_KINDS = ("six_monthly", "annual")
FIRST_YEAR = 2020
_KEY = re.compile(r"^(\d{4})(?:-(H1|H2))?$")


def local_today() -> date:
    """Today in Vietnam (tests replace this to freeze the clock)."""
    return datetime.now(LOCAL_TZ).date()


def year_range(today: date) -> range:
    return range(FIRST_YEAR, today.year + 2)


def parse_period(key: str | None, today: date) -> tuple[str, Period] | None:
    """'2026' (the year), '2026-H1' or '2026-H2'; None when not one of the fixed periods."""
    key = key or str(today.year)
    match = _KEY.match(key)
    if not match or int(match.group(1)) not in year_range(today):
        return None
    half = {"H1": 1, "H2": 2}.get(match.group(2), 0)
    return key, fixed_period(int(match.group(1)), half)


def period_choices(today: date) -> list[tuple[str, str]]:
    out = []
    for year in reversed(year_range(today)):
        out.append((str(year), _("Năm %(year)d", year=year)))
        out.append((f"{year}-H2", _("6 tháng cuối năm %(year)d", year=year)))
        out.append((f"{year}-H1", _("6 tháng đầu năm %(year)d", year=year)))
    return out


def report_period(kind: str, year: int) -> Period:
    return fixed_period(year, 1 if kind == "six_monthly" else 0)


def due_date(kind: str, year: int) -> date:
    """Six-monthly reports are due before 20 June, annual reports before 5 December."""
    return date(year, 6, 20) if kind == "six_monthly" else date(year, 12, 5)


def report_title(kind: str, year: int) -> str:
    if kind == "six_monthly":
        return _("Báo cáo 6 tháng đầu năm %(year)d", year=year)
    return _("Báo cáo năm %(year)d", year=year)
