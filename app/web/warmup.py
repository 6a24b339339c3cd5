"""A worker pays its one-time costs before it takes its first request.

Measured on the province dashboard at 100,000 cases (benchmarks/reports.py): the first request
of a fresh worker cost 1.6-1.9 x a repeat. Compiling the Jinja templates, loading the Babel
catalogues and locale data, and the SQL statements SQLAlchemy compiles and caches on first use
made most of the difference; the rest was Python's cyclic garbage collector, which scans every
long-lived object (about 200,000 after start) in each full collection, up to 0.4 s at a time,
in the middle of some unlucky request. After the warm-up those objects are frozen
(`gc.freeze`, as CPython's documentation advises for pre-fork servers), so collections scan
only what requests allocate.

`app.wsgi` (gunicorn) and `flask start-demo` call `warm_worker`; tests and CLI commands do not
(they would pay for nothing).
"""

from __future__ import annotations

import gc
import logging
import time
from datetime import date

from flask import Flask
from flask_babel import force_locale, format_date, format_decimal, get_translations

log = logging.getLogger(__name__)


def warm_worker(app: Flask) -> None:
    started = time.perf_counter()
    _compile_templates(app)
    _load_languages(app)
    try:
        _build_reports_once(app)
    except Exception:  # noqa: BLE001 - a worker that could not warm still serves
        log.warning("warm-up: the reports were not built (the database may be down)")
    gc.collect()
    gc.freeze()
    log.info("worker warmed in %.0f ms", (time.perf_counter() - started) * 1000)


def _compile_templates(app: Flask) -> None:
    env = app.jinja_env
    for name in env.list_templates(filter_func=lambda n: n.endswith((".html", ".txt"))):
        env.get_template(name)


def _load_languages(app: Flask) -> None:
    with app.test_request_context("/"):
        for language in app.config["LANGUAGES"]:
            with force_locale(language):
                get_translations()
                format_decimal(1234.5)
                format_date(date(2026, 1, 1))


def _build_reports_once(app: Flask) -> None:
    """The dashboard's and the six-monthly report's queries and disclosure control, for the top
    unit, once: what they compile and cache is shared by every later request. Nothing is shown
    or recorded."""
    import sqlalchemy as sa

    from app.db import enter_read_first_scope, leave_read_first_scope
    from app.extensions import db
    from app.orgs.models import OrgUnit
    from app.reports import disclosure, layout, periods
    from app.reports.indicators import DEFAULT_WINDOW

    with app.test_request_context("/"):
        scope = enter_read_first_scope()  # SQLite: read without the write lock
        try:
            top = db.session.scalars(
                sa.select(OrgUnit).where(OrgUnit.parent_id.is_(None)).order_by(OrgUnit.id)
            ).first()
            if top is None:
                return
            today = periods.local_today()
            _, period = periods.parse_period(None, today)
            report = layout.build_report(
                top, period, DEFAULT_WINDOW, protected=True, k=layout.suppression_k(), today=today
            )
            disclosure.release(report)
            disclosure.release(layout.upward_report(top, "six_monthly", today.year, today))
        finally:
            db.session.rollback()
            db.session.remove()
            leave_read_first_scope(scope)
