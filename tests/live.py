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
def chromium(**context_options):
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            "Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(**context_options)
            yield context
            context.close()
        finally:
            browser.close()
