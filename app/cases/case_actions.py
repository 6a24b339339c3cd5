"""The actions on a case page: notes, needs, consents, status, assignment and transfer; each
one `act` (part of the cases blueprint)."""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.cases import consents as cons
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


@bp.post("/cases/<code>/consents")
@roles_required(*ALL_ROLES)
def add_consent(code: str):
    form = F.ConsentForm()

    def action(actor, case):
        if not form.validate():
            raise services.CaseError(_l("Hãy chọn hình thức đồng ý."), "consent_method")
        purposes = [p for p in form.consent_purposes() if p != cons.RECORD] or (
            [cons.RECORD] if form.consent_record.data else []
        )
        given = services.ConsentGiven(
            purposes=purposes,
            method=form.consent_method.data,
            given_by=form.given_by.data,
            guardian_relation=form.guardian_relation.data,
        )
        services.record_consent(actor, case, given)

    return act(code, action, _("Đã ghi nhận sự đồng ý."))


@bp.post("/cases/<code>/status")
@roles_required(*ALL_ROLES)
def set_status(code: str):
    form = F.StatusForm()

    def action(actor, case):
        if not form.validate():
            raise services.CaseError(_l("Trạng thái không hợp lệ."), "status")
        services.set_status(actor, case, form.status.data, form.closed_reason.data or None)

    return act(code, action, _("Đã cập nhật trạng thái hồ sơ."))


@bp.post("/cases/<code>/assign")
@roles_required(*ALL_ROLES)
def assign(code: str):
    def action(actor, case):
        raw = request.form.get("assigned_to_id", "0")
        user_id = int(raw) if raw.isdigit() else -1
        services.assign_case(actor, case, user_id or None)

    return act(code, action, _("Đã giao hồ sơ."))


@bp.post("/cases/<code>/transfer")
@roles_required(*ALL_ROLES)
def request_transfer(code: str):
    def action(actor, case):
        raw = request.form.get("org_unit_id", "")
        services.request_transfer(actor, case, int(raw) if raw.isdigit() else -1)

    return act(code, action, _("Đã gửi yêu cầu chuyển hồ sơ."))


@bp.post("/cases/<code>/transfer/cancel")
@roles_required(*ALL_ROLES)
def cancel_transfer(code: str):
    return act(code, services.cancel_transfer, _("Đã huỷ yêu cầu chuyển hồ sơ."))


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
