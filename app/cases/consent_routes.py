"""Recording another consent, withdrawing a consent (confirmation and a reason) and the next
step after the consent to record is withdrawn: restriction of processing or erasure (part of the
cases blueprint)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.cases import consents as cons
from app.cases import forms as F
from app.cases import permissions as perms
from app.cases import queries, services
from app.cases.blueprint import bp
from app.cases.case_pages import act, attach_error, load_managed_case
from app.extensions import db
from app.permissions import ALL_ROLES, PermissionDenied, deny, roles_required


def _render_consent(case, form, status: int = 200):
    return render_template("cases/consent_new.html", case=case, form=form), status


@bp.get("/cases/<code>/consents")
@roles_required(*ALL_ROLES)
def new_consent(code: str):
    """Recording a consent given later (sharing with a new kind of service, a phone contact):
    its own page, as withdrawing is. Its dozen fields on every case page cost a tenth of it."""
    _actor, case = load_managed_case(code)
    return _render_consent(case, F.ConsentForm(formdata=None))


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

    def again(case, exc: services.CaseError):
        # Her ticks stay as she left them, with the message beside the field it is about.
        if not form.errors:
            attach_error(form, exc)
        return _render_consent(case, form, 400)

    return act(code, action, _("Đã ghi nhận sự đồng ý."), on_error=again)


def _render_withdraw(case, consent, form, status: int = 200):
    return render_template(
        "cases/withdraw_consent.html",
        case=case,
        consent=consent,
        form=form,
        stops_processing=consent.purpose == cons.RECORD,
    ), status


@bp.route("/cases/<code>/consents/<int:consent_id>/withdraw", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def withdraw_consent(code: str, consent_id: int):
    actor, case = load_managed_case(code)
    consent = next((c for c in case.consents if c.id == consent_id), None)
    if consent is None or not perms.shows_purpose(actor, consent.purpose):
        abort(404)
    form = F.WithdrawConsentForm()
    if not form.is_submitted():
        return _render_withdraw(case, consent, form)
    if not form.validate():
        return _render_withdraw(case, consent, form, 400)
    try:
        services.withdraw_consent(actor, case, consent, reason=form.reason.data)
    except services.CaseError as exc:
        db.session.rollback()
        case = queries.get_case_or_404(actor, code)
        consent = next(c for c in case.consents if c.id == consent_id)
        form.reason.errors = [*form.reason.errors, str(exc.message)]
        return _render_withdraw(case, consent, form, 400)
    except PermissionDenied:
        deny(actor, "case", case.code)
    db.session.commit()
    flash(_("Đã rút lại sự đồng ý. Việc chia sẻ liên quan đã dừng."), "success")
    if services.needs_next_step(case):
        return redirect(url_for("cases.next_step", code=code))
    return redirect(url_for("cases.detail", code=code))


@bp.get("/cases/<code>/next-step")
@roles_required(*ALL_ROLES)
def next_step(code: str):
    """After the consent to record is withdrawn: restrict processing or erase the case."""
    _actor, case = load_managed_case(code)
    if not services.needs_next_step(case):
        return redirect(url_for("cases.detail", code=code))
    return render_template("cases/next_step.html", case=case, erase_reason="consent_withdrawn")
