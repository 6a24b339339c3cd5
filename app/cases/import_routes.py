"""The import page and its template downloads (part of the cases blueprint)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.cases import forms as F
from app.cases import importer, queries
from app.cases.blueprint import bp
from app.extensions import db
from app.imports.bounds import read_upload
from app.imports.models import RunStatus
from app.orgs.models import OrgUnit
from app.permissions import Role, current_actor, roles_required


def _form(actor) -> F.ImportForm:
    form = F.ImportForm()
    form.org_unit_id.choices = [(u.id, u.name) for u in queries.org_units_for_intake(actor)]
    return form


@bp.route("/cases/import", methods=["GET", "POST"])
@roles_required(Role.CASEWORKER)
def import_cases():
    actor = current_actor()
    form = _form(actor)
    if not form.is_submitted():
        return render_template("cases/import.html", form=form, errors=None)
    upload = form.file.data
    if not form.validate() or upload is None or not getattr(upload, "filename", ""):
        form.file.errors = [*form.file.errors, _("Hãy chọn tệp theo mẫu.")]
        return render_template("cases/import.html", form=form, errors=None), 400
    unit = db.session.get(OrgUnit, form.org_unit_id.data)
    try:
        content = read_upload(upload.stream, importer.LIMITS)
        run = importer.import_file(actor, upload.filename, content, unit, via="web")
    except importer.ImportError_ as exc:
        form.file.errors = [str(exc)]
        return render_template("cases/import.html", form=form, errors=None), 400
    if run.status == RunStatus.DONE:
        flash(_("Đã nhập %(n)d hồ sơ.", n=run.rows_published), "success")
        return redirect(url_for("cases.index"))
    if run.status == RunStatus.REFUSED:
        errors = [importer.RowError(row, message) for row, message in run.errors or []]
        return render_template("cases/import.html", form=form, errors=errors), 400
    # Larger files go on in the background: the page shows how far they are.
    return redirect(url_for("imports.progress", run_id=run.id))


@bp.get("/cases/import/template.xlsx")
@roles_required(Role.CASEWORKER)
def import_template_xlsx():
    return Response(
        importer.template_xlsx(),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": "attachment; filename=mau-nhap-ho-so.xlsx"},
    )


@bp.get("/cases/import/template.csv")
@roles_required(Role.CASEWORKER)
def import_template_csv():
    return Response(
        importer.template_csv(),
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=mau-nhap-ho-so.csv"},
    )
