"""Partner directory and referral pages. Thin views: scoped load, check, validate, one service,
one commit."""

from __future__ import annotations

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import LazyString, force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.audit import services as audit
from app.cases.queries import get_case_or_404
from app.categories import category_choices, category_label
from app.extensions import db
from app.home.panels import register_panel
from app.permissions import PermissionDenied, Role, current_actor, roles_required
from app.referrals import directory, hsds, hsds_export, queries, services, sharing
from app.referrals import forms as F
from app.referrals import permissions as perms
from app.referrals.status import (
    ACTION_LABELS,
    PRIORITY_LABELS,
    Party,
    ReferralStatus,
    local_today,
    next_statuses,
    reason_label,
    requirement,
    status_label,
)
from app.web.params import page_arg

bp = Blueprint("referrals", __name__, template_folder="templates")

READERS = perms.DIRECTORY_READERS
MANAGERS = perms.DIRECTORY_MANAGERS
REFERRAL_ROLES = (Role.CASEWORKER, Role.PARTNER)


def _overdue_text() -> str:
    return _("Chuyển gửi đã quá hạn trả lời: %(n)d", n=queries.overdue_count(current_actor()))


register_panel(
    "referrals.index",
    _l("Chuyển gửi"),
    _l("Theo dõi chuyển gửi đến cơ sở dịch vụ cho đến khi nhận được dịch vụ."),
    REFERRAL_ROLES,
    order=30,
)
register_panel(
    "referrals.directory",
    _l("Danh bạ dịch vụ"),
    _l("Tìm cơ sở cung cấp dịch vụ theo nhóm hỗ trợ và địa bàn."),
    READERS,
    order=40,
)
register_panel(
    "referrals.overdue",
    _l("Chuyển gửi quá hạn"),
    LazyString(_overdue_text),
    (Role.CASEWORKER,),
    order=82,
)


@bp.app_template_global()
def referral_status_label(status) -> str:
    return status_label(status)


@bp.app_template_global()
def referral_reason_label(code) -> str:
    return reason_label(code)


@bp.app_template_global()
def support_category_label(value) -> str:
    # An imported service whose taxonomy term no admin has mapped yet.
    return category_label(value) if value else _("Chưa phân loại")


@bp.app_template_global()
def referral_withdrawn(referral) -> bool:
    return sharing.is_withdrawn(referral)


# -- directory ---------------------------------------------------------------------------------


@bp.get("/partners/", endpoint="directory")
@roles_required(*READERS)
def directory_index():
    category = request.args.get("category") or None
    if category not in {v for v, _label in category_choices()}:
        category = None
    units = queries.org_units()
    unit = next((u for u in units if u.code == request.args.get("area")), None)
    text = (request.args.get("q") or "").strip()[:100] or None
    services_found = (
        db.session.execute(queries.search_services(category, unit, text)).scalars().all()
    )
    return render_template(
        "referrals/directory.html",
        services=services_found,
        units=units,
        categories=category_choices(),
        filters={"category": category, "area": unit, "q": text},
        organizations=queries.organizations(),
        can_manage=perms.can_manage_directory(current_actor()),
    )


@bp.get("/partners/organizations/<org_id>")
@roles_required(*READERS)
def organization(org_id: str):
    actor = current_actor()
    org = queries.get_organization_or_404(actor, org_id)
    is_admin = actor.has_role(Role.ADMIN)
    return render_template(
        "referrals/organization.html",
        org=org,
        can_manage=perms.can_manage_directory(actor),
        is_admin=is_admin,
        partner_users=queries.partner_users() if is_admin else [],
    )


@bp.post("/partners/organizations/<org_id>/users")
@roles_required(Role.ADMIN)
def organization_users(org_id: str):
    """Attach (or detach) a partner user: they then see this organization's referrals."""
    actor = current_actor()
    org = queries.get_organization_or_404(actor, org_id)
    user = queries.get_partner_user_or_404(actor, request.form.get("user_id", type=int))
    attach = request.form.get("action") != "detach"
    directory.attach_partner(actor, user, org if attach else None)
    db.session.commit()
    flash(_("Đã cập nhật tài khoản của cơ sở."), "success")
    return redirect(url_for("referrals.organization", org_id=org.id))


def _org_form(form: F.OrganizationForm) -> F.OrganizationForm:
    form.org_unit_id.choices = F.choices(
        [(0, _("— Không chọn —"))] + [(u.id, f"{u.name} ({u.code})") for u in queries.org_units()]
    )
    return form


@bp.route("/partners/organizations/new", methods=["GET", "POST"], endpoint="organization_new")
@bp.route("/partners/organizations/<org_id>/edit", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def organization_edit(org_id: str | None = None):
    actor = current_actor()
    org = queries.get_organization_or_404(actor, org_id) if org_id else None
    form = _org_form(F.OrganizationForm(obj=org))
    if request.method == "GET" and org is not None:
        form.phone.data = org.phones[0].number if org.phones else ""
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("referrals/organization_form.html", form=form, org=org), status
    values = {name: (getattr(form, name).data or None) for name in directory.ORG_FIELDS}
    values["name"] = form.name.data.strip()
    values["description"] = form.description.data.strip()
    org = directory.save_organization(actor, org, values, phone=form.phone.data)
    db.session.commit()
    flash(_("Đã lưu thông tin cơ sở."), "success")
    return redirect(url_for("referrals.organization", org_id=org.id))


@bp.route("/partners/organizations/<org_id>/locations/new", methods=["GET", "POST"])
@bp.route(
    "/partners/organizations/<org_id>/locations/<location_id>/edit",
    methods=["GET", "POST"],
    endpoint="location_edit",
)
@roles_required(*MANAGERS)
def location_new(org_id: str, location_id: str | None = None):
    actor = current_actor()
    org = queries.get_organization_or_404(actor, org_id)
    location = None
    if location_id is not None:
        location = next((loc for loc in org.locations if str(loc.id) == location_id), None)
        if location is None:
            abort(404)
    form = F.LocationForm(obj=location)
    if request.method == "GET" and location is not None:
        form.phone.data = location.phones[0].number if location.phones else ""
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template(
            "referrals/location_form.html", form=form, org=org, location=location
        ), status
    values = {name: getattr(form, name).data for name in directory.LOCATION_FIELDS}
    for key in ("address_2", "postal_code", "transportation", "description"):
        values[key] = values[key] or ("" if key == "postal_code" else None)
    directory.save_location(actor, org, location, values, phone=form.phone.data)
    db.session.commit()
    flash(_("Đã lưu địa điểm."), "success")
    return redirect(url_for("referrals.organization", org_id=org.id))


def _service_form(org, service=None) -> F.ServiceForm:
    form = F.ServiceForm(obj=service)
    form.areas.choices = F.choices((u.id, f"{u.name} ({u.code})") for u in queries.org_units())
    form.locations.choices = F.choices((str(loc.id), loc.name) for loc in org.locations)
    if request.method == "GET" and service is not None:
        form.areas.data = [a.id for a in service.areas]
        form.locations.data = [str(loc.id) for loc in service.locations]
        form.languages.data = service.language_codes
        form.phone.data = service.phones[0].number if service.phones else ""
        contact = service.contacts[0] if service.contacts else None
        if contact is not None:
            form.contact_name.data, form.contact_title.data = contact.name, contact.title
            form.contact_email.data = contact.email
            form.contact_phone.data = contact.phones[0].number if contact.phones else ""
    return form


@bp.route("/partners/organizations/<org_id>/services/new", methods=["GET", "POST"])
@bp.route("/partners/services/<service_id>/edit", methods=["GET", "POST"], endpoint="service_edit")
@roles_required(*MANAGERS)
def service_new(org_id: str | None = None, service_id: str | None = None):
    actor = current_actor()
    service = queries.get_service_or_404(actor, service_id) if service_id else None
    org = service.organization if service else queries.get_organization_or_404(actor, org_id)
    form = _service_form(org, service)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template(
            "referrals/service_form.html", form=form, org=org, service=service
        ), status
    values = {
        name: getattr(form, name).data for name in directory.SERVICE_FIELDS if name != "languages"
    }
    values["languages"] = " ".join(form.languages.data or ["vi"])
    for key in (
        "alternate_name",
        "url",
        "email",
        "eligibility_description",
        "fees_description",
        "application_process",
    ):
        values[key] = (values.get(key) or "").strip() or None
    data = directory.ServiceInput(
        values=values,
        area_ids=form.areas.data,
        location_ids=form.locations.data,
        phone=form.phone.data,
        contact_name=form.contact_name.data,
        contact_title=form.contact_title.data,
        contact_email=form.contact_email.data,
        contact_phone=form.contact_phone.data,
    )
    service = directory.save_service(actor, org, service, data)
    db.session.commit()
    flash(_("Đã lưu dịch vụ."), "success")
    return redirect(url_for("referrals.service", service_id=service.id))


@bp.get("/partners/services/<service_id>")
@roles_required(*READERS)
def service(service_id: str):
    svc = queries.get_service_or_404(current_actor(), service_id)
    return render_template(
        "referrals/service.html",
        service=svc,
        can_manage=perms.can_manage_directory(current_actor()),
    )


@bp.get("/partners/export.<fmt>")
@roles_required(*MANAGERS)
def directory_export(fmt: str):
    if fmt not in ("json", "zip"):
        abort(404)
    document = hsds_export.export_document()
    audit.record(
        current_actor(),
        "partner.exported",
        object_type="partner_directory",
        details={
            "format": "hsds-json" if fmt == "json" else "hsds-csv",
            "count": len(document["services"]),
        },
    )
    db.session.commit()
    if fmt == "json":
        import json

        body = json.dumps(document, ensure_ascii=False, indent=1)
        mimetype = "application/json"
    else:
        body = hsds.export_csv_zip(document)
        mimetype = "application/zip"
    return Response(
        body,
        mimetype=mimetype,
        headers={"Content-Disposition": f"attachment; filename=caunoi-hsds.{fmt}"},
    )


@bp.route("/partners/import", methods=["GET", "POST"])
@roles_required(*MANAGERS)
def directory_import():
    form = F.ImportForm()
    errors: list[str] = []
    if form.validate_on_submit():
        upload = form.file.data
        try:
            document = hsds.parse_upload(upload.filename or "", upload.stream)
            counts = hsds.import_document(current_actor(), document)
        except hsds.ImportFailed as exc:
            db.session.rollback()
            errors = exc.errors[:50]
        else:
            db.session.commit()
            flash(
                _(
                    "Đã nhập %(o)d cơ sở và %(s)d dịch vụ.",
                    o=counts["organizations"],
                    s=counts["services"],
                ),
                "success",
            )
            return redirect(url_for("referrals.directory"))
    status = 400 if form.is_submitted() else 200
    return render_template("referrals/import.html", form=form, errors=errors), status


# -- referrals ---------------------------------------------------------------------------------


@bp.get("/referrals/")
@roles_required(*REFERRAL_ROLES)
def index():
    return _list(overdue_only=request.args.get("overdue") == "1")


@bp.get("/referrals/overdue")
@roles_required(Role.CASEWORKER)
def overdue():
    return _list(overdue_only=True)


def _list(overdue_only: bool):
    actor = current_actor()
    status = request.args.get("status") or None
    page = queries.referral_list(actor, status=status, overdue_only=overdue_only, page=page_arg())
    return render_template(
        "referrals/list.html",
        page=page,
        rows=page.items,
        today=local_today(),
        overdue_only=overdue_only,
        status=status,
        overdue_total=queries.overdue_count(actor),
        statuses=list(ReferralStatus),
    )


@bp.get("/cases/<code>/referrals")
@roles_required(Role.CASEWORKER)
def case_referrals(code: str):
    case = get_case_or_404(current_actor(), code)
    return render_template(
        "referrals/case.html",
        case=case,
        referrals=queries.case_referrals(case),
        connected=queries.connected_need_ids(case),
        today=local_today(),
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
