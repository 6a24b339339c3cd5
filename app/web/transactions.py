"""How a request's database transaction begins (see `app.db.reads_first`)."""

from __future__ import annotations

from flask import Flask, current_app, request

from app.db import READ_SNAPSHOT
from app.extensions import db


def init_app(app: Flask) -> None:
    @app.before_request
    def begin_read_snapshot():
        # Before anything reads (the session loader is the first): once begun, a transaction's
        # kind is fixed until it ends.
        view = current_app.view_functions.get(request.endpoint)
        if getattr(view, "reads_first", False) and not db.session().in_transaction():
            db.session.connection(execution_options={READ_SNAPSHOT: True})
