"""Sign-in (with its second factor), sign-out, two-factor enrolment and password change."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user
from flask_wtf.csrf import generate_csrf

from app.auth import mfa as two_factor
from app.auth import services, sessions, throttle
from app.auth.forms import ChangePasswordForm, SecondFactorForm, SignInForm, TotpCodeForm
from app.auth.passwords import MIN_LENGTH
from app.db import commit_keeping_loaded
from app.extensions import db
from app.home.panels import register_panel
from app.permissions import ALL_ROLES, Role, is_api_path, public, roles_required
from app.web.security import same_site_path

bp = Blueprint("auth", __name__, url_prefix="/auth", template_folder="templates")

_NEXT_KEY = "mfa_next"
_SIGNED_OUT_KEY = "signed_out"  # one-shot: the sign-in page after sign-out
# What a user who must enrol in two-factor may still reach before doing so.
ENROLMENT_OPEN_ENDPOINTS = frozenset(
    {"auth.mfa_enrol", "auth.sign_out", "home.set_language", "home.health", "static"}
)

register_panel(
    "auth.mfa_enrol",
    _l("Xác thực hai bước"),
    _l("Dùng thêm mã từ ứng dụng trên điện thoại khi đăng nhập, để bảo vệ tài khoản."),
    set(Role),
    order=91,
)


def _safe_next(target: str | None) -> str:
    return same_site_path(target) or url_for("home.index")


def _fresh_cookie_session() -> None:
    """Drop everything the pre-sign-in cookie carried except the language choice."""
    pending = sessions.pending_session()
    if pending is not None:
        sessions.end_session(pending, "replaced")
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


@bp.before_app_request
def require_mfa_enrolment():
    """Users whose role requires two-factor reach nothing else until they have enrolled."""
    if request.endpoint is None or request.endpoint in ENROLMENT_OPEN_ENDPOINTS:
        return None
    if not current_user.is_authenticated or not services.must_enrol(current_user):
        return None
    if is_api_path(request.path):
        return jsonify(error="mfa_enrolment_required"), 403
    return redirect(url_for("auth.mfa_enrol"))


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@throttle.sign_in_limits
def sign_in():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignInForm()
    if form.validate_on_submit():
        user = services.authenticate(form.username.data, form.password.data)
        if user is None:
            throttle.mark_failed()
            db.session.commit()
            flash(_("Tên đăng nhập hoặc mật khẩu không đúng."), "error")
            return render_template("auth/sign_in.html", form=form), 401
        next_url = _safe_next(request.args.get("next"))
        _fresh_cookie_session()
        if services.has_mfa(user):
            session[sessions.PENDING_KEY] = services.sign_in(user, mfa_pending=True)
            session[_NEXT_KEY] = next_url
            db.session.commit()
            return redirect(url_for("auth.mfa"))
        services.sign_in(user)
        login_user(user)
        db.session.commit()
        if services.must_enrol(user):
            return redirect(url_for("auth.mfa_enrol"))
        return redirect(next_url)
    status = 400 if form.is_submitted() else 200
    signed_out = session.pop(_SIGNED_OUT_KEY, False)
    return render_template("auth/sign_in.html", form=form, signed_out=signed_out), status


@bp.route("/mfa", methods=["GET", "POST"])
@public
@throttle.mfa_limits
def mfa():
    pending = sessions.pending_session()
    if pending is None:
        session.pop(sessions.PENDING_KEY, None)
        flash(_("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại."), "info")
        return redirect(url_for("auth.sign_in"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        via = services.complete_second_factor(pending, form.code.data)
        if via is None:
            throttle.mark_failed()
            db.session.commit()
            form.code.errors = [_("Mã không đúng hoặc đã được dùng. Hãy nhập mã mới.")]
            return render_template("auth/mfa_verify.html", form=form), 401
        user = pending.user
        sessions.attach(user, session.pop(sessions.PENDING_KEY), pending)
        next_url = _safe_next(session.pop(_NEXT_KEY, None))
        login_user(user)
        db.session.commit()
        if via == "recovery_code":
            left = two_factor.unused_recovery_codes(user)
            flash(_("Bạn vừa dùng một mã khôi phục. Còn lại %(n)d mã.", n=left), "warning")
        return redirect(next_url)
    status = 400 if form.is_submitted() else 200
    return render_template("auth/mfa_verify.html", form=form), status


@bp.route("/mfa/enrol", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
@throttle.enrolment_limits
def mfa_enrol():
    user = current_user
    if services.has_mfa(user):
        unused = two_factor.unused_recovery_codes(user)
        return render_template(
            "auth/mfa_status.html", unused=unused, enrolled_at=user.mfa_enrolled_at
        )
    secret = services.pending_enrolment_secret(user)
    form = TotpCodeForm()
    status = 200
    if form.validate_on_submit():
        codes = services.enrol_mfa(user, form.code.data)
        if codes is not None:
            db.session.commit()
            return render_template("auth/recovery_codes.html", codes=codes)
        throttle.mark_failed()
        form.code.errors = [_("Mã không đúng. Hãy nhập mã đang hiện trong ứng dụng.")]
        status = 400
    elif form.is_submitted():
        status = 400
    db.session.commit()  # the pending secret, and a failed attempt's audit event
    return render_template(
        "auth/mfa_enrol.html",
        form=form,
        qr=two_factor.qr_svg(two_factor.provisioning_uri(user, secret)),
        secret=two_factor.grouped(secret),
        required=services.must_enrol(user),
    ), status


@bp.route("/password", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
@throttle.password_change_limits
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(
                current_user,
                current_user.auth_session,
                form.current_password.data,
                form.new_password.data,
            )
        except services.WrongPassword:
            throttle.mark_failed()
            db.session.commit()
            form.current_password.errors = [_("Mật khẩu hiện tại không đúng.")]
            return _password_page(form), 400
        except services.PasswordRefused as refused:
            form.new_password.errors = refused.problems
            return _password_page(form), 400
        db.session.commit()
        flash(_("Đã đổi mật khẩu. Các phiên đăng nhập khác của bạn đã kết thúc."), "success")
        return redirect(url_for("home.index"))
    return _password_page(form), 400 if form.is_submitted() else 200


def _password_page(form: ChangePasswordForm) -> str:
    return render_template("auth/change_password.html", form=form, min_length=MIN_LENGTH)


@bp.post("/sign-out")
@roles_required(*ALL_ROLES)
def sign_out():
    services.sign_out(current_user, current_user.auth_session)
    db.session.commit()
    logout_user()
    _fresh_cookie_session()
    # The next page (sign-in) also forgets what this browser kept for offline use.
    session[_SIGNED_OUT_KEY] = True
    flash(_("Bạn đã đăng xuất."), "info")
    return redirect(url_for("auth.sign_in"))


# -- the idle time-out that loses nothing (app/static/js/app.js) ---------------------------------
# Intake, note and consent pages: an interview outlasts the usual idle limit
# (SESSION_FORM_IDLE_TIMEOUT). The consent page is read out to her and filled as she answers.
LONG_FORM_ENDPOINTS = frozenset(
    {"cases.new", "cases.edit", "cases.detail", "cases.add_note", "cases.new_consent"}
)


@bp.before_app_request
def note_long_form_page():
    """Each page she opens sets which idle limit her session has while she stays on it, and
    gives the page's timer its figures (read now: rendering may come after the commit)."""
    if request.endpoint in (None, "static") or is_api_path(request.path):
        return
    if not current_user.is_authenticated:
        return
    auth_session = current_user.auth_session
    if request.method == "GET" and request.blueprint != "auth":
        sessions.set_long_form(auth_session, request.endpoint in LONG_FORM_ENDPOINTS)
    if g.get("read_first_scope") is not None and db.session.dirty:
        # Her session's own writes (last seen every 30 s, the idle limit on every move between
        # a case and the list) took SQLite's write lock: committed now, so that the page's
        # reads run in a fresh snapshot instead of holding the lock over every other worker.
        commit_keeping_loaded(db.session)
    g.session_timer = {
        **sessions.seconds_left(auth_session),
        "warn": int(current_app.config["SESSION_IDLE_WARNING"].total_seconds()),
        "long_form": auth_session.is_on_long_form,
    }


@bp.get("/session")
@public
def session_state():
    """Whether this browser's session is still good, without extending it (the page's timer)."""
    user = current_user if current_user.is_authenticated else None
    body = {"alive": user is not None, "csrf": generate_csrf()}
    if user is not None:
        body.update(sessions.seconds_left(user.auth_session), user=user.username)
    db.session.commit()  # the loader may have ended an expired session (audited)
    return jsonify(body)


@bp.post("/keep-alive")
@roles_required(*ALL_ROLES)
def keep_alive():
    """ "Tiếp tục làm việc": the idle limit starts again from now."""
    sessions.touch(current_user.auth_session, force=True)
    db.session.commit()
    left = sessions.seconds_left(current_user.auth_session)
    return jsonify(alive=True, csrf=generate_csrf(), **left)


def _resumed(user):
    db.session.commit()
    left = sessions.seconds_left(user.auth_session)
    return jsonify(alive=True, csrf=generate_csrf(), user=user.username, **left)


def _resume_refused(error: str, status: int):
    return jsonify(alive=False, error=error), status


@bp.post("/resume")
@public
@throttle.resume_limits
def resume():
    """Sign in again from the page whose session ended, as the same user only; the page then
    sends the form she filled in. The real sign-in: same throttling, same second factor."""
    owner = sessions.find_session(session.get("_user_id"))
    if owner is None or owner.is_mfa_pending:
        return _resume_refused(_("Không thể tiếp tục phiên này. Hãy đăng nhập lại."), 409)
    user = services.authenticate(request.form.get("username", ""), request.form.get("password", ""))
    if user is None or user.id != owner.user_id:
        throttle.mark_failed()
        if user is not None:
            services.record_resume_refused(user, owner)
        db.session.commit()
        message = (
            _("Tên đăng nhập hoặc mật khẩu không đúng.")
            if user is None
            else _("Chỉ người đã mở trang này mới có thể tiếp tục.")
        )
        return _resume_refused(message, 401 if user is None else 403)
    _fresh_cookie_session()
    if services.has_mfa(user):
        session[sessions.PENDING_KEY] = services.sign_in(user, mfa_pending=True)
        db.session.commit()
        return jsonify(alive=False, step="code", csrf=generate_csrf())
    services.sign_in(user)
    login_user(user)
    return _resumed(user)


@bp.post("/resume/code")
@public
@throttle.mfa_limits
def resume_code():
    """Second step of `resume` for users with two-factor."""
    pending = sessions.pending_session()
    if pending is None:
        return _resume_refused(_("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại."), 409)
    if services.complete_second_factor(pending, request.form.get("code", "")) is None:
        throttle.mark_failed()
        db.session.commit()
        return _resume_refused(_("Mã không đúng hoặc đã được dùng. Hãy nhập mã mới."), 401)
    user = pending.user
    sessions.attach(user, session.pop(sessions.PENDING_KEY), pending)
    login_user(user)
    return _resumed(user)


@bp.app_template_global()
def session_timer() -> dict | None:
    """What base.html gives the page's timer (seconds), for the signed-in user."""
    return g.get("session_timer")
