"""Giving a case to a caseworker or volunteer, and sending it to another unit: a page of its own
(part of the cases blueprint). Both are occasional, and their two lists (the unit's people, a
province's units) were a quarter of every case page's time and most of its form weight."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from app.cases import forms as F
from app.cases import queries, services
from app.cases.blueprint import bp
from app.cases.case_pages import act, load_managed_case
from app.cases.models import Case
from app.permissions import ALL_ROLES, current_actor, roles_required


def render_assignment(case: Case, status: int = 200, error: services.CaseError | None = None):
    actor = current_actor()
    assign_form = F.AssignForm(formdata=None)
    assign_form.assigned_to_id.choices = [(0, "—")] + [
        (u.id, u.display_name or u.username) for u in queries.assignable_users(actor, case)
    ]
    assign_form.assigned_to_id.data = case.assigned_to_id or 0
    transfer_form = F.TransferForm(formdata=None)
    if case.transfer_to_org_unit_id is None:
        transfer_form.org_unit_id.choices = [
            (u.id, u.name) for u in queries.transfer_targets(actor, case)
        ]
    if error is not None:
        # The message goes beside the list she chose from: people, or units (a transfer).
        about_people = error.field_name == "assigned_to_id"
        target = assign_form.assigned_to_id if about_people else transfer_form.org_unit_id
        target.errors = [str(error.message)]
    return render_template(
        "cases/assignment.html", case=case, assign_form=assign_form, transfer_form=transfer_form
    ), status


@bp.get("/cases/<code>/assignment")
@roles_required(*ALL_ROLES)
def assignment(code: str):
    _actor, case = load_managed_case(code)
    return render_assignment(case)


def _again(case: Case, exc: services.CaseError):
    return render_assignment(case, 400, exc)


@bp.post("/cases/<code>/assign")
@roles_required(*ALL_ROLES)
def assign(code: str):
    def action(actor, case):
        raw = request.form.get("assigned_to_id", "0")
        user_id = int(raw) if raw.isdigit() else -1
        services.assign_case(actor, case, user_id or None)

    return act(code, action, _("Đã giao hồ sơ."), on_error=_again)


@bp.post("/cases/<code>/transfer")
@roles_required(*ALL_ROLES)
def request_transfer(code: str):
    def action(actor, case):
        raw = request.form.get("org_unit_id", "")
        services.request_transfer(actor, case, int(raw) if raw.isdigit() else -1)

    return act(code, action, _("Đã gửi yêu cầu chuyển hồ sơ."), on_error=_again)


@bp.post("/cases/<code>/transfer/cancel")
@roles_required(*ALL_ROLES)
def cancel_transfer(code: str):
    return act(code, services.cancel_transfer, _("Đã huỷ yêu cầu chuyển hồ sơ."), on_error=_again)
