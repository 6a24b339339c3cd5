"""The training sheet: download the template, upload a filled-in one (all or nothing)."""

from __future__ import annotations

from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.extensions import db
from app.orgs.models import OrgUnit
from app.permissions import current_actor, roles_required
from app.training import importer, permissions, queries, services
from app.training.blueprint import bp
from app.web.forms import XlsxImportForm


@bp.get("/template.xlsx")
@roles_required(*permissions.ENTRY_ROLES)
def template():
    data = importer.build_template(queries.units_in_scope(current_actor()))
    response = current_app.response_class(data, mimetype=importer.XLSX_MIME)
    response.headers["Content-Disposition"] = "attachment; filename=mau-tap-huan-can-bo.xlsx"
    return response


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*permissions.ENTRY_ROLES)
def import_page():
    actor = current_actor()
    form = XlsxImportForm()
    errors: list[tuple[int, str]] = []
    if form.validate_on_submit() and form.file.data:
        # One byte over the limit is enough to refuse: never read a large upload whole.
        data = form.file.data.read(importer.MAX_BYTES + 1)
        try:
            sessions = importer.read_sessions(data)
            root = db.session.get(OrgUnit, actor.org_unit_id)
            result = services.import_sessions(actor, root, sessions, importer.digest(data))
        except importer.WorkbookError as exc:
            errors = [(0, str(exc))]
        except services.ImportRejected as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            db.session.commit()
            flash(
                _(
                    "Đã nhập %(n)d lớp tập huấn (%(a)d lớp đã có từ trước).",
                    n=result.created,
                    a=result.already,
                ),
                "success",
            )
            return redirect(url_for("training.index"))
    elif form.is_submitted():
        errors = [(0, _("Hãy chọn tệp Excel (.xlsx) để nhập."))]
    return render_template("training/import.html", form=form, errors=errors, limits=importer), (
        400 if errors else 200
    )
