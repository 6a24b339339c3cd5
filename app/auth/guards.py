"""Flask-Login wiring: load the user from the server-side session; refuse the unauthenticated."""

from __future__ import annotations

from flask import flash, jsonify, redirect, request, url_for
from flask_babel import gettext as _

from app.auth import sessions
from app.extensions import db, login_manager
from app.permissions import Actor, is_api_path


@login_manager.user_loader
def load_user(token: str):
    auth_session = sessions.find_session(token)
    if auth_session is None or auth_session.is_mfa_pending:
        return None
    reason = sessions.expiry_reason(auth_session)
    if reason is not None:
        if auth_session.ended_at is None:
            from app.audit.services import record

            sessions.end_session(auth_session, reason)
            record(
                Actor.from_user(auth_session.user),
                "auth.session_expired",
                auth_session.user,
                reason=reason,
            )
            db.session.commit()
        return None
    # Asking whether the session is still good (the page's timer) must not extend it.
    if request.endpoint != "auth.session_state":
        sessions.touch(auth_session)
    sessions.attach(auth_session.user, token, auth_session)
    return auth_session.user


def refuse_unauthenticated():
    if is_api_path(request.path):
        # The API's one error body (app/openapi.py), like every other refusal.
        return jsonify(error=_("Cần đăng nhập"), status=401), 401
    if request.accept_mimetypes.best == "application/json":  # the page's idle timer (app.js)
        return jsonify(error="unauthorized"), 401
    flash(_("Vui lòng đăng nhập để tiếp tục."), "info")
    return redirect(
        url_for("auth.sign_in", next=request.full_path if request.method == "GET" else None)
    )


login_manager.unauthorized_handler(refuse_unauthenticated)
