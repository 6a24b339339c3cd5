"""Sign-in and sign-out pages."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from app.auth import services
from app.auth.forms import SignInForm
from app.extensions import db
from app.permissions import ALL_ROLES, public, roles_required

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link borrow our sign-in page.
    if target and target.startswith("/") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc:
            return target
    return url_for("home.index")


def _fresh_cookie_session() -> None:
    """Drop everything the pre-sign-in cookie carried except the language choice."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.route("/sign-in", methods=["GET", "POST"])
@public
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            db.session.commit()
            flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")
            return render_template("auth/sign_in.html", form=form), 401
        _fresh_cookie_session()
        services.sign_in(user)
        login_user(user)
        db.session.commit()
        return redirect(_safe_next(request.args.get("next")))
    status = 400 if form.is_submitted() else 200
    return render_template("auth/sign_in.html", form=form), status


@bp.post("/sign-out")
@roles_required(*ALL_ROLES)
def sign_out():
    services.sign_out(current_user, current_user.auth_session)
    db.session.commit()
    logout_user()
    _fresh_cookie_session()
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.sign_in"))
