"""How a request's database transaction begins (see `app.db.reads_first`)."""

from __future__ import annotations

from flask import Flask, current_app, g, request

from app.db import enter_read_first_scope, leave_read_first_scope
from app.extensions import db

# Every page that only shows something reads first: its transaction takes SQLite's write lock
# only at its first write (its audit event, the session's last-seen time), not for its reads.
READING_METHODS = frozenset({"GET", "HEAD"})


def init_app(app: Flask) -> None:
    @app.before_request
    def begin_read_snapshot():
        # Before anything reads (the session loader is the first): once begun, a transaction's
        # kind is fixed until it ends.
        view = current_app.view_functions.get(request.endpoint)
        reads_first = request.method in READING_METHODS or getattr(view, "reads_first", False)
        if reads_first:
            g.read_first_scope = enter_read_first_scope()
            # A transaction begun already keeps its kind until it ends.
            if not db.session().in_transaction():
                db.session.connection()

    @app.teardown_request
    def end_read_first(exc):
        token = g.pop("read_first_scope", None)
        if token is not None:
            leave_read_first_scope(token)
