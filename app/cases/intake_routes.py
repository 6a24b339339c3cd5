"""Intake: opening a case with her consent, her details and her needs, after the duplicate
check (part of the cases blueprint)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.cases import consents as cons
from app.cases import forms as F
from app.cases import permissions as perms
from app.cases import queries, services
from app.cases.blueprint import bp
from app.cases.case_pages import attach_error
from app.cases.models import IDENTIFYING_FIELDS
from app.extensions import db
from app.permissions import Role, current_actor, roles_required

# --- intake ----------------------------------------------------------------------------------


def _intake_form(actor) -> F.IntakeForm:
    form = F.IntakeForm()
    units = queries.org_units_for_intake(actor)
    form.org_unit_id.choices = [(u.id, u.name) for u in units]
    if actor.has_role(Role.VOLUNTEER) and units and not form.is_submitted():
        form.org_unit_id.data = units[0].id
    form.assigned_to_id.choices = [(0, _("— tự động —"))] + [
        (u.id, u.display_name or u.username) for u in queries.intake_assignees(actor)
    ]
    return form


def _intake_from_form(actor, form: F.IntakeForm) -> services.Intake:
    sensitive = perms.sees_sensitive(actor)
    return services.Intake(
        org_unit_id=form.org_unit_id.data,
        consent=services.ConsentGiven(
            purposes=form.consent_purposes(),
            method=form.consent_method.data or "",
            given_by=form.given_by.data,
            guardian_relation=form.guardian_relation.data,
        ),
        **{f: getattr(form, f).data for f in IDENTIFYING_FIELDS},
        health_details=form.health_details.data if sensitive else None,
        violence_details=form.violence_details.data if sensitive else None,
        reached_via=form.reached_via.data,
        needs=form.needs(),
        assigned_to_id=form.assigned_to_id.data or None,
    )


def _render_intake(form, status=200, duplicates=None):
    return render_template(
        "cases/new.html",
        form=form,
        duplicates=duplicates,
        consent_version=cons.CONSENT_TEXT_VERSION,
        sees_sensitive=perms.sees_sensitive(current_actor()),
    ), status


@bp.route("/cases/new", methods=["GET", "POST"])
@roles_required(*perms.CASE_ROLES)
def new():
    actor = current_actor()
    form = _intake_form(actor)
    if not form.is_submitted():
        return _render_intake(form)
    valid = form.validate()
    if not form.consent_record.data:
        form.consent_record.errors = [
            _(
                "Chưa có sự đồng ý cho việc ghi nhận hồ sơ: không lưu được gì. "
                "Hãy đọc nội dung đồng ý cho người được hỗ trợ."
            )
        ]
        return _render_intake(form, 400)
    if not valid:
        return _render_intake(form, 400)
    data = _intake_from_form(actor, form)
    if not form.confirm_not_duplicate.data:
        dup = services.find_duplicates(
            actor, data.full_name, data.date_of_birth, data.phone, data.id_number
        )
        if dup.found:
            return _render_intake(form, 409, duplicates=dup)
    try:
        case = services.open_case(actor, data)
    except services.CaseError as exc:
        db.session.rollback()
        attach_error(form, exc)
        return _render_intake(form, 400)
    db.session.commit()
    flash(_("Đã mở hồ sơ %(code)s.", code=case.code), "success")
    return redirect(url_for("cases.detail", code=case.code))
