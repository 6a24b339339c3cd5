"""A live server in a thread and a real Chromium, for browser and multi-connection tests.

Use with tests marked `browser` (or `real_db`), which keep Flask-SQLAlchemy's own session.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager

import pytest
from werkzeug.serving import make_server

from app import create_app
from tests.conftest import make_config, reset_schema, wipe_database

CHROMIUM = "/usr/bin/chromium"
NO_CHROMIUM = "Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
# For modules whose fixtures should not even start without it.
needs_chromium = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason=NO_CHROMIUM)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def own_app(tmp_path, **overrides):
    """A fresh app on its own database (a SQLite file, or TEST_DATABASE_URL's server)."""
    config = make_config(tmp_path)
    for key, value in overrides.items():
        setattr(config, key, value)
    wipe_database(config.SQLALCHEMY_DATABASE_URI)
    app = create_app(config)
    reset_schema(app)
    return app


def browser_app(tmp_path):
    """own_app as a browser meets it: CSRF on, on a SQLite file of its own."""
    return own_app(
        tmp_path,
        SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/browser.sqlite3",
        WTF_CSRF_ENABLED=True,
    )


@contextmanager
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def chromium_browser():
    """A headless Chromium; open one context per user with `browser.new_context(...)`."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(NO_CHROMIUM)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def chromium(**context_options):
    """One browser context (a fresh profile: no cookies, no storage) in a new Chromium."""
    with chromium_browser() as browser:
        context = browser.new_context(**context_options)
        yield context
        context.close()
