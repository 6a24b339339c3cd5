"""A worker warms before its first request (app/web/warmup.py): templates compiled, languages
loaded, the reports' queries run once for the top unit, then its objects frozen out of the
garbage collector's scans. It writes nothing, and a worker whose database is down still starts."""

from __future__ import annotations

import gc

import pytest
import sqlalchemy as sa

from app.audit.models import AuditEvent
from app.extensions import db
from app.web.warmup import warm_worker

pytestmark = pytest.mark.real_db


@pytest.fixture
def unfreeze():
    yield
    gc.unfreeze()


def _audit_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))


def test_a_warmed_worker_has_compiled_every_page_and_wrote_nothing(seeded_app, unfreeze, caplog):
    app = seeded_app
    with app.app_context():
        before = _audit_count()
        db.session.remove()
    caplog.set_level("INFO", logger="app.web.warmup")
    warm_worker(app)
    pages = app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html"))
    compiled = {name for (_, name) in app.jinja_env.cache.keys()}
    assert "reports/dashboard.html" in compiled and set(pages) <= compiled
    assert gc.get_freeze_count() > 10_000
    assert "worker warmed" in caplog.text and "not built" not in caplog.text
    with app.app_context():
        assert _audit_count() == before


def test_a_worker_whose_database_is_down_still_starts(seeded_app, unfreeze, caplog, monkeypatch):
    from app.reports import layout

    def database_down(*args, **kwargs):
        raise sa.exc.OperationalError("SELECT", {}, Exception("connection refused"))

    monkeypatch.setattr(layout, "build_report", database_down)
    warm_worker(seeded_app)
    assert "the reports were not built" in caplog.text
    assert seeded_app.test_client().get("/health").status_code == 200
