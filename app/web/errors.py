"""Error pages in the user's language that echo nothing from the request."""

from __future__ import annotations

import logging

import sqlalchemy.exc as sa_exc
from flask import Flask, current_app, jsonify, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from app.permissions import is_api_path

log = logging.getLogger(__name__)

MESSAGES = {
    400: (
        _l("Yêu cầu không hợp lệ"),
        _l("Không thể xử lý yêu cầu này. Vui lòng quay lại và thử lại."),
    ),
    401: (_l("Cần đăng nhập"), _l("Vui lòng đăng nhập để tiếp tục.")),
    403: (_l("Không có quyền"), _l("Bạn không có quyền thực hiện việc này.")),
    404: (_l("Không tìm thấy"), _l("Trang hoặc hồ sơ bạn tìm không tồn tại.")),
    405: (_l("Không được phép"), _l("Thao tác này không được hỗ trợ ở đây.")),
    413: (_l("Tệp quá lớn"), _l("Tệp gửi lên vượt quá giới hạn cho phép.")),
    429: (
        _l("Quá nhiều lần thử"),
        _l("Bạn đã thử quá nhiều lần. Vui lòng đợi vài phút rồi thử lại."),
    ),
    500: (_l("Lỗi hệ thống"), _l("Đã xảy ra lỗi. Sự cố đã được ghi lại; vui lòng thử lại sau.")),
}


def _render(status: int):
    title, message = MESSAGES.get(status, MESSAGES[500])
    if is_api_path(request.path):
        return jsonify(error=str(title), status=status), status
    return render_template(
        "errors/error.html", status=status, title=title, message=message, is_error_page=True
    ), status


RETRY_AFTER_SECONDS = 5
# The database did not answer (down, restarting, failing over, a statement past its
# statement_timeout, a pool with no free connection): answer 503 and let the page retry.
DATABASE_UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.TimeoutError)


def _unavailable():
    """The 503 page, rendered without the database: no context processors (they read the
    signed-in user), only the language the request asked for."""
    try:
        locale = str(get_locale())
    except Exception:  # noqa: BLE001 - the page must render whatever failed
        locale = "vi"
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    if is_api_path(request.path):
        body = jsonify(error=str(_l("Hệ thống tạm thời gián đoạn")), status=503)
        return body, 503, headers
    template = current_app.jinja_env.get_template("errors/unavailable.html")
    html = template.render(current_locale=locale, retry_after=RETRY_AFTER_SECONDS)
    return html, 503, headers


def _discard_session() -> None:
    try:
        from app.extensions import db

        db.session.rollback()
    except Exception:  # noqa: BLE001, S110 - the connection may be gone; the pool replaces it
        pass


def init_app(app: Flask) -> None:
    @app.errorhandler(sa_exc.DBAPIError)
    def database_error(exc: sa_exc.DBAPIError):
        if not isinstance(exc, DATABASE_UNAVAILABLE) and not exc.connection_invalidated:
            return unexpected_error(exc)
        from flask import g

        log.warning(
            "database unavailable (%s) request_id=%s", type(exc.orig).__name__, g.get("request_id")
        )
        _discard_session()
        return _unavailable()

    @app.errorhandler(sa_exc.TimeoutError)
    def pool_timeout(exc):
        _discard_session()
        return _unavailable()

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        return _render(400)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        return _render(exc.code or 500)

    @app.errorhandler(Exception)
    def unexpected_error(exc: Exception):
        # Log the type and request id only: exception text may quote submitted data.
        from flask import g

        log.error("unhandled %s request_id=%s", type(exc).__name__, g.get("request_id"))
        try:
            from app.extensions import db

            db.session.rollback()
        except Exception:  # noqa: BLE001, S110
            pass
        return _render(500)
