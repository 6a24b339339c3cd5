"""Access outside the everyday scope: break-glass for an admin and personal API tokens
(part of the cases blueprint)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.auth.models import ApiToken
from app.cases import forms as F
from app.cases import queries, services, tokens
from app.cases.blueprint import bp
from app.cases.case_pages import attach_error
from app.extensions import db
from app.permissions import ALL_ROLES, Role, current_actor, not_found, roles_required

# --- break-glass -----------------------------------------------------------------------------


@bp.route("/cases/break-glass", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def break_glass():
    actor = current_actor()
    form = F.BreakGlassForm()
    if not form.is_submitted():
        return render_template("cases/break_glass.html", form=form)
    if not form.validate():
        return render_template("cases/break_glass.html", form=form), 400
    code = form.code.data.strip().upper()
    case = queries.get_case_by_code(code)
    if case is None:
        not_found(actor, "case", queries.clean_ref(code))
    try:
        services.open_break_glass(actor, case, form.reason.data)
    except services.CaseError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return render_template("cases/break_glass.html", form=form), 400
    db.session.commit()
    flash(_("Truy cập khẩn cấp đã mở trong 30 phút và được ghi vào nhật ký."), "warning")
    return redirect(url_for("cases.detail", code=case.code))


# --- personal API tokens ---------------------------------------------------------------------


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def api_tokens():
    actor = current_actor()
    form = F.TokenForm()
    plain = None
    status = 200
    if form.is_submitted():
        if form.validate():
            _token, plain = tokens.create_api_token(actor, form.name.data)
            db.session.commit()
            form = F.TokenForm(formdata=None)
        else:
            status = 400
    return render_template(
        "cases/api_tokens.html",
        form=form,
        plain=plain,
        tokens=tokens.tokens_of(actor),
        revoke_form=F.EmptyForm(),
    ), status


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@roles_required(*ALL_ROLES)
def revoke_api_token(token_id: int):
    actor = current_actor()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        not_found(actor, "api_token", str(token_id))
    tokens.revoke_api_token(actor, token)
    db.session.commit()
    flash(_("Đã thu hồi mã truy cập."), "success")
    return redirect(url_for("cases.api_tokens"))
