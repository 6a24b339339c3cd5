"""Numbers, percentages and dates in the user's locale through Flask-Babel (issue #13, point 3)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from flask import session
from flask_babel import refresh

from app.web.templating import (
    format_date,
    format_datetime,
    format_figure,
    format_number,
    format_percent,
)


@pytest.fixture
def speaking(app):
    def _in(lang):
        ctx = app.test_request_context()
        ctx.push()
        session["lang"] = lang
        refresh()
        return ctx

    pushed = []
    yield lambda lang: pushed.append(_in(lang))
    for ctx in reversed(pushed):
        refresh()
        ctx.pop()
    refresh()


def test_vietnamese(speaking):
    speaking("vi")
    assert format_percent(72.2) == "72,2\u00a0%"
    assert format_number(2000) == "2.000" and format_number(100000) == "100.000"
    assert format_figure("72.2%") == "72,2\u00a0%" and format_figure("2000") == "2.000"
    assert format_figure("<5") == "<5" and format_figure("—") == "—"
    assert format_figure("2,159") == "2.159" and format_figure("1.198") == "1.198"
    assert format_figure("100.0% (5/5)") == "100,0\u00a0% (5/5)"
    assert format_date(date(2026, 3, 5)) == "05/03/2026"
    # Vietnam's clock: 23:30 UTC is the next morning there.
    assert format_datetime(datetime(2026, 3, 5, 23, 30, tzinfo=UTC)) == "06/03/2026 06:30"


def test_english(speaking):
    speaking("en")
    assert format_percent(72.2) == "72.2%"
    assert format_number(100000) == "100,000"
    assert format_figure("80.0%") == "80.0%"


def test_a_count_grouped_where_it_was_made_follows_the_page(speaking):
    """disclosure writes 2.000; the figure's own number makes it 2,000 on English pages."""
    from app.reports import disclosure

    count, rate = disclosure.exact(2000), disclosure.rate(disclosure.exact(1), disclosure.exact(8))
    speaking("en")
    assert format_figure(count) == "2,000" and format_figure(disclosure.exact(12)) == "12"
    assert format_figure(rate) == "12.5%"
    speaking("vi")
    assert format_figure(count) == "2.000" and format_figure(rate) == "12,5\u00a0%"


def test_csv_numbers_are_plain():
    from app.reports import disclosure
    from app.reports.exports import csv_text

    assert csv_text("cases", disclosure.exact(2000)) == "2000"
    assert csv_text("rate", disclosure.rate(disclosure.exact(1), disclosure.exact(8))) == "12.5%"
    assert csv_text("cases", disclosure.withheld()) == "—"


def test_counts_in_sentences_are_grouped_for_the_locale(speaking):
    """A count past 999 inside a sentence ("Trang 1 / 1.234") is grouped like every number."""
    from types import SimpleNamespace

    from flask import render_template_string

    pager = '{% from "_form.html" import pager %}{{ pager(page, "cases.index") }}'
    # The attributes of Flask-SQLAlchemy's Pagination that the macro reads.
    page = SimpleNamespace(
        page=1, pages=1234, total=1234 * 25, has_prev=False, has_next=True, prev_num=0, next_num=2
    )
    speaking("vi")
    assert "Trang 1 / 1.234" in render_template_string(pager, page=page)
    speaking("en")
    assert "Page 1 of 1,234" in render_template_string(pager, page=page)


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_percentages_are_babels_to_the_digit(speaking, lang):
    """format_percent does Babel's arithmetic without Babel's pattern machinery: the same text
    for every percentage a report shows (halves, thousands, a hundredth of a percent)."""
    import random

    from flask_babel import format_percent as babel_percent

    speaking(lang)
    space = "\u00a0" if lang == "vi" else ""
    rng = random.Random(14)
    values = [0, 0.05, 0.15, 0.25, 2.5, 12.45, 12.55, 66.666, 99.95, 100, 1234.56, 80]
    values += [rng.randrange(0, 100_000) / rng.choice([1, 10, 100, 1000]) for _ in range(3000)]
    values += [100 * a / b for b in range(1, 60) for a in range(b + 1)]
    for digits in (0, 1, 2):
        pattern = ("#,##0." + "0" * digits if digits else "#,##0") + space + "%"
        for value in values:
            assert format_percent(value, digits) == babel_percent(value / 100.0, pattern), value
