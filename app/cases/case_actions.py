"""The actions on a case page: notes, needs, status, and accepting a transfer; each one `act`
(part of the cases blueprint). Assignment and transfer have their own page
(assignment_routes), as has recording a consent (consent_routes)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.cases import forms as F
from app.cases import queries, services
from app.cases.blueprint import bp
from app.cases.case_pages import act, refuse
from app.extensions import db
from app.permissions import ALL_ROLES, PermissionDenied, current_actor, roles_required


@bp.post("/cases/<code>/notes")
@roles_required(*ALL_ROLES)
def add_note(code: str):
    form = F.NoteForm()

    def action(actor, case):
        if not form.validate():
            raise services.CaseError(_l("Ghi chú đang trống."), "body")
        services.add_note(actor, case, form.body.data, bool(form.is_sensitive.data))

    return act(code, action, _("Đã thêm ghi chú."), manage=False)


@bp.post("/cases/<code>/needs")
@roles_required(*ALL_ROLES)
def add_need(code: str):
    form = F.NeedForm()

    def action(actor, case):
        if not form.validate():
            raise services.CaseError(_l("Nhu cầu hỗ trợ không hợp lệ."), "needs")
        services.add_need(actor, case, form.category.data, form.priority.data)

    return act(code, action, _("Đã thêm nhu cầu hỗ trợ."))


@bp.post("/cases/<code>/needs/<int:need_id>")
@roles_required(*ALL_ROLES)
def need_status(code: str, need_id: int):
    form = F.NeedStatusForm()

    def action(actor, case):
        need = next((n for n in case.needs if n.id == need_id), None)
        if need is None:
            abort(404)
        if not form.validate():
            raise services.CaseError(_l("Trạng thái nhu cầu không hợp lệ."), "status")
        services.set_need_status(actor, case, need, form.status.data)

    return act(code, action, _("Đã cập nhật nhu cầu hỗ trợ."))


@bp.post("/cases/<code>/status")
@roles_required(*ALL_ROLES)
def set_status(code: str):
    form = F.StatusForm()

    def action(actor, case):
        if not form.validate():
            raise services.CaseError(_l("Trạng thái không hợp lệ."), "status")
        services.set_status(actor, case, form.status.data, form.closed_reason.data or None)

    return act(code, action, _("Đã cập nhật trạng thái hồ sơ."))


@bp.post("/cases/<code>/transfer/accept")
@roles_required(*ALL_ROLES)
def accept_transfer(code: str):
    actor = current_actor()
    case = queries.get_incoming_transfer_or_404(actor, code)
    try:
        services.accept_transfer(actor, case)
    except PermissionDenied:
        refuse(actor, case)
    db.session.commit()
    flash(_("Đã nhận hồ sơ %(code)s.", code=case.code), "success")
    return redirect(url_for("cases.detail", code=case.code))
