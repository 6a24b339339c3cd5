"""A referral: sending it from a need, its page and transitions for either party, the printed
slip (part of the referrals blueprint)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _

from app.audit import services as audit
from app.cases.queries import get_case_or_404
from app.extensions import db
from app.permissions import PermissionDenied, Role, current_actor, roles_required
from app.referrals import forms as F
from app.referrals import permissions as perms
from app.referrals import queries, services, sharing
from app.referrals.blueprint import REFERRAL_ROLES, bp
from app.referrals.status import (
    ACTION_LABELS,
    PRIORITY_LABELS,
    Party,
    ReferralStatus,
    local_today,
    next_statuses,
    requirement,
    status_label,
)


def _referral_form(case, need) -> F.ReferralForm:
    form = F.ReferralForm()
    choices = db.session.execute(queries.referrable_services(case, need.category)).scalars()
    form.service_id.choices = F.choices(
        (str(s.id), f"{s.name} — {s.organization.name}") for s in choices
    )
    allowed = sharing.allowed_fields(case)
    form.fields.choices = F.choices((name, str(sharing.FIELD_LABELS[name])) for name in allowed)
    if not form.is_submitted():
        form.fields.data = sharing.default_fields(case)
        if request.args.get("service"):
            form.service_id.data = request.args["service"]
    return form


@bp.route("/cases/<code>/needs/<int:need_id>/refer", methods=["GET", "POST"])
@roles_required(Role.CASEWORKER)
def refer(code: str, need_id: int):
    actor = current_actor()
    case = get_case_or_404(actor, code)
    need = next((n for n in case.needs if n.id == need_id), None)
    if need is None:
        abort(404)
    form = _referral_form(case, need)
    refused = None
    try:
        services.check_sharing(case, need.category)
    except services.ReferralError as exc:
        refused = exc.message
    status = 400 if form.is_submitted() else 200
    if form.is_submitted() and refused is None and form.validate():
        try:
            svc = queries.get_service_or_404(actor, form.service_id.data)
            referral = services.create_referral(
                actor,
                case,
                need,
                svc,
                fields=form.fields.data or [],
                priority=form.priority.data,
                partner_note=form.partner_note.data,
                internal_note=form.internal_note.data,
                hiv_status=form.hiv_status.data,
            )
            if form.send_now.data:
                services.send_referral(actor, referral)
        except services.ReferralError as exc:
            db.session.rollback()
            flash(str(exc.message), "error")
        else:
            db.session.commit()
            flash(
                _("Đã gửi chuyển gửi.") if form.send_now.data else _("Đã lưu bản nháp chuyển gửi."),
                "success",
            )
            return redirect(url_for("referrals.detail", referral_id=referral.id))
    return render_template(
        "referrals/refer.html",
        case=case,
        need=need,
        form=form,
        refused=refused,
        unavailable=[
            (n, sharing.FIELD_LABELS[n])
            for n in sharing.SHAREABLE_FIELDS
            if n not in sharing.allowed_fields(case)
        ],
        consented=[sharing.FIELD_LABELS[n] for n in sharing.allowed_fields(case)],
    ), status


def _transition_forms(actor, referral) -> list[tuple[str, F.TransitionForm, list]]:
    party = perms.party_of(actor, referral)
    out = []
    for to in next_statuses(ReferralStatus(referral.status), party):
        form = F.TransitionForm(formdata=None, to=to.value, prefix=to.value)
        reasons = requirement(to, party).reason_codes
        form.reason_code.choices = F.reason_choices(reasons)
        out.append((to.value, form, list(reasons)))
    return out


@bp.get("/referrals/<int:referral_id>")
@roles_required(*REFERRAL_ROLES)
def detail(referral_id: int):
    return _render_detail(referral_id)


def _render_detail(referral_id: int, status: int = 200):
    actor = current_actor()
    referral = queries.get_referral_or_404(actor, referral_id)
    view = sharing.shared_view(referral)
    audit.record(actor, "referral.viewed", referral)
    db.session.commit()
    is_partner = actor.has_role(Role.PARTNER)
    forms = [] if (is_partner and view.withdrawn) else _transition_forms(actor, referral)
    suggestions = []
    if not is_partner and referral.status in ("cancelled", "rejected", "failed"):
        suggestions = queries.suggestions_for(referral)
    return render_template(
        "referrals/detail.html",
        referral=referral,
        view=view,
        is_partner=is_partner,
        forms=forms,
        action_labels=ACTION_LABELS,
        priority_labels=PRIORITY_LABELS,
        today=local_today(),
        suggestions=suggestions,
        party=perms.party_of(actor, referral),
        Party=Party,
        event_note=lambda e: None if is_partner else sharing.read_event_note(referral, e),
        internal_note=None if is_partner else sharing.read_internal_note(referral),
    ), status


# The referral's own URL takes its transitions, so a refused one re-renders there (400) with
# what was typed, and the address bar never stays on an action URL. The older action URL still
# answers (clients and pages built before) but answers a refusal with a redirect to the referral.
@bp.post("/referrals/<int:referral_id>/transition", endpoint="transition_legacy")
@bp.post("/referrals/<int:referral_id>")
@roles_required(*REFERRAL_ROLES)
def transition(referral_id: int):
    actor = current_actor()
    referral = queries.get_referral_or_404(actor, referral_id)
    to = request.form.get("to", "")
    form = F.TransitionForm(prefix=to) if to in {s.value for s in ReferralStatus} else None
    if form is None or not form.validate():
        return _refused(referral_id, _("Yêu cầu không hợp lệ."))
    if actor.has_role(Role.PARTNER) and sharing.is_withdrawn(referral):
        flash(_("Chuyển gửi này đã được rút lại."), "error")
        return redirect(url_for("referrals.detail", referral_id=referral.id))
    data = services.TransitionInput(
        reason_code=form.reason_code.data or None,
        outcome=form.outcome.data or None,
        service_date=form.service_date.data,
        note=form.note.data,
        verified_by=form.verified_by.data,
    )
    try:
        services.transition(actor, referral, to, data)
    except services.ReferralError as exc:
        db.session.rollback()
        return _refused(referral_id, str(exc.message))
    except PermissionDenied:
        db.session.rollback()
        abort(403)
    db.session.commit()
    flash(_("Đã cập nhật chuyển gửi: %(s)s.", s=status_label(to)), "success")
    return redirect(url_for("referrals.detail", referral_id=referral.id))


def _refused(referral_id: int, message: str):
    flash(message, "error")
    if request.endpoint == "referrals.transition_legacy":
        return redirect(url_for("referrals.detail", referral_id=referral_id), 303)
    return _render_detail(referral_id, 400)


@bp.get("/referrals/<int:referral_id>/slip")
@roles_required(*REFERRAL_ROLES)
def slip(referral_id: int):
    actor = current_actor()
    referral = queries.get_referral_or_404(actor, referral_id)
    view = sharing.shared_view(referral)
    audit.record(actor, "referral.printed", referral)
    db.session.commit()
    with force_locale("vi"):
        return render_template(
            "referrals/slip.html", referral=referral, view=view, priority_labels=PRIORITY_LABELS
        )
