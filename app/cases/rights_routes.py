"""Her rights on a case: correction, the data-subject printout, restriction of processing
and erasure (part of the cases blueprint)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.cases import forms as F
from app.cases import permissions as perms
from app.cases import rights, services
from app.cases.blueprint import bp
from app.cases.case_pages import (
    act,
    attach_error,
    detail_context,
    format_birth,
    load_case,
    load_managed_case,
    refuse,
)
from app.cases.fields import read_fields
from app.cases.models import ENCRYPTED_FIELDS
from app.extensions import db
from app.permissions import ALL_ROLES, current_actor, roles_required

# --- her rights ------------------------------------------------------------------------------


@bp.route("/cases/<code>/edit", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def edit(code: str):
    actor, case = load_managed_case(code)
    form = F.CorrectionForm()
    if not form.is_submitted():
        values = read_fields(case)
        for name, value in values.items():
            getattr(form, name).data = format_birth(value) if name == "date_of_birth" else value
        form.reached_via.data = case.reached_via
        services.record_view(actor, case, via="edit")
        db.session.commit()
        return render_template("cases/edit.html", case=case, form=form)
    if not form.validate():
        return render_template("cases/edit.html", case=case, form=form), 400
    values = {name: getattr(form, name).data for name in ENCRYPTED_FIELDS}
    try:
        changed = services.correct_case(actor, case, values, form.reached_via.data)
    except services.CaseError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return render_template("cases/edit.html", case=load_case(code), form=form), 400
    db.session.commit()
    flash(
        _("Đã sửa %(n)d mục.", n=len(changed)) if changed else _("Không có gì thay đổi."), "success"
    )
    return redirect(url_for("cases.detail", code=code))


@bp.get("/cases/<code>/print")
@roles_required(*ALL_ROLES)
def print_case(code: str):
    actor, case = load_managed_case(code)
    ctx = detail_context(actor, case)
    ctx.update(rights.printout_context(actor, case))
    rights.record_print(actor, case)
    db.session.commit()
    return render_template("cases/print.html", **ctx)


@bp.post("/cases/<code>/restrict")
@roles_required(*ALL_ROLES)
def restrict(code: str):
    return act(
        code,
        rights.restrict_processing,
        _("Đã hạn chế xử lý hồ sơ: mọi chia sẻ và chuyển gửi đã dừng."),
    )


@bp.post("/cases/<code>/unrestrict")
@roles_required(*ALL_ROLES)
def unrestrict(code: str):
    return act(code, rights.lift_restriction, _("Đã bỏ hạn chế xử lý hồ sơ."))


@bp.route("/cases/<code>/erase", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def erase(code: str):
    actor = current_actor()
    case = load_case(code)
    if not perms.can_erase(actor, case):
        refuse(actor, case)
    form = F.EraseForm()
    if not form.is_submitted():
        # Reached from the next step after a withdrawn consent: its reason comes chosen.
        if request.args.get("reason") in rights.ERASURE_REASONS:
            form.reason.data = request.args["reason"]
        return render_template("cases/erase.html", case=case, form=form)
    if not form.validate():
        return render_template("cases/erase.html", case=case, form=form), 400
    try:
        rights.erase_case(actor, case, form.confirm_code.data, form.reason.data)
    except services.CaseError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return render_template("cases/erase.html", case=load_case(code), form=form), 400
    db.session.commit()
    flash(_("Hồ sơ %(code)s đã được xoá vĩnh viễn.", code=code), "success")
    return redirect(url_for("cases.detail", code=code))
