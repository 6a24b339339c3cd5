"""The partner directory: organizations, their locations and services, the directory's export
and import (part of the referrals blueprint)."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.audit import services as audit
from app.categories import category_choices
from app.extensions import db
from app.permissions import Role, current_actor, roles_required
from app.referrals import directory, hsds, hsds_export, queries
from app.referrals import forms as F
from app.referrals import permissions as perms
from app.referrals.blueprint import bp

READERS = perms.DIRECTORY_READERS
MANAGERS = perms.DIRECTORY_MANAGERS


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
