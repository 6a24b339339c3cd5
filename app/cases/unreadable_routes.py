"""A case that does not decrypt: its own page says so, and the admins' listing names it.

Part of the cases blueprint (app/cases/unreadable.py says why).
"""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import lazy_gettext as _l

from app.cases.api import bp as api_bp
from app.cases.blueprint import bp
from app.cases.unreadable import UNREADABLE_LABEL, report_unreadable, unreadable_reports
from app.crypto.envelope import CryptoError
from app.extensions import db
from app.home.panels import register_panel
from app.permissions import Role, current_actor, roles_required

register_panel(
    "cases.unreadable_cases",
    _l("Hồ sơ không đọc được"),
    _l("Những hồ sơ có dữ liệu mã hoá không mở được; cần kiểm tra bộ khoá hoặc bản sao lưu."),
    {Role.ADMIN},
    order=89,
)


def _report(via: str) -> None:
    db.session.rollback()
    code = (request.view_args or {}).get("code")
    if code:  # the case was loaded through the scoped query before decrypting failed
        report_unreadable(current_actor(), [code], via=via)
        db.session.commit()


@api_bp.errorhandler(CryptoError)
def unreadable_case_api(exc: CryptoError):
    _report("api")
    return jsonify(error=str(UNREADABLE_LABEL), status=500), 500


@bp.errorhandler(CryptoError)
def unreadable_case(exc: CryptoError):
    """A case page whose fields do not open: say so instead of a bare server error."""
    _report("page")
    return render_template(
        "errors/error.html",
        status=500,
        title=_l("Không đọc được hồ sơ"),
        message=UNREADABLE_LABEL,
        is_error_page=True,
    ), 500


@bp.get("/admin/unreadable-cases")
@roles_required(Role.ADMIN)
def unreadable_cases():
    return render_template("cases/unreadable.html", reports=unreadable_reports())
