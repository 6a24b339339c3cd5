"""Run one job as one transaction inside an application context (every backend uses this)."""

from __future__ import annotations

import logging

from flask import Flask, current_app, has_app_context

from app.extensions import db
from app.jobs.registry import resolve

log = logging.getLogger(__name__)
_APP: Flask | None = None


def _app() -> Flask:
    """The app of this process: the running one, or one built once (a bare `rq worker`)."""
    global _APP
    if has_app_context():
        return current_app._get_current_object()
    if _APP is None:
        from app import create_app

        _APP = create_app()
    return _APP


def run_job(func_path: str, args: list | tuple = (), kwargs: dict | None = None):
    """Entry point of every queued job: its own app context, commit on return, else rollback."""
    with _app().app_context():
        try:
            return run_here(func_path, args, kwargs)
        finally:
            db.session.remove()


def run_here(func_path: str, args: list | tuple = (), kwargs: dict | None = None):
    """Run the job in the current context and session (tests, `flask jobs run`)."""
    func = resolve(func_path)
    try:
        result = func(*args, **(kwargs or {}))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        log.exception("job %s failed", func_path)
        raise
    return result
