"""Attachment pages of a case: upload and download (part of the cases blueprint)."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from app.cases import attachments, queries
from app.cases import forms as F
from app.cases.blueprint import bp
from app.cases.errors import CaseError
from app.cases.models import CaseAttachment
from app.extensions import db
from app.permissions import (
    ALL_ROLES,
    PermissionDenied,
    current_actor,
    deny,
    not_found,
    roles_required,
)


def _attachment_or_404(actor, case, attachment_id: int) -> CaseAttachment:
    """Another case's attachment (or none) is not found, as an unknown case is: 404, audited."""
    attachment = db.session.get(CaseAttachment, attachment_id)
    if attachment is None or attachment.case_id != case.id:
        not_found(actor, "case", case.code)
    return attachment


def _render_upload(case, form, status: int = 200):
    return render_template(
        "cases/attachment_new.html",
        case=case,
        form=form,
        max_mb=f"{attachments.max_bytes() / 1024 / 1024:g}",
    ), status


@bp.route("/cases/<code>/attachments/new", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def add_attachment(code: str):
    actor = current_actor()
    case = queries.get_case_or_404(actor, code)
    if not attachments.can_upload(actor, case):
        deny(actor, "case", case.code)
    form = F.AttachmentForm()
    if not form.is_submitted():
        return _render_upload(case, form)
    if not form.validate():
        return _render_upload(case, form, 400)
    try:
        attachments.add_attachment(actor, case, form.kind.data, form.file.data.read())
    except CaseError as exc:
        db.session.rollback()
        form.file.errors = [*form.file.errors, str(exc.message)]
        return _render_upload(queries.get_case_or_404(actor, code), form, 400)
    db.session.commit()
    flash(_("Đã lưu tệp đính kèm (đã mã hoá)."), "success")
    return redirect(url_for("cases.detail", code=code))


@bp.get("/cases/<code>/attachments/<int:attachment_id>")
@roles_required(*ALL_ROLES)
def download_attachment(code: str, attachment_id: int):
    actor = current_actor()
    case = queries.get_case_or_404(actor, code)
    attachment = _attachment_or_404(actor, case, attachment_id)
    try:
        data = attachments.read_attachment(actor, case, attachment)
    except PermissionDenied:
        deny(actor, "case", case.code)
    db.session.commit()  # the download is in the audit trail before a byte leaves
    return Response(
        data,
        mimetype=attachment.media_type,
        headers={
            "Content-Disposition": (
                f'attachment; filename="{attachments.download_name(case, attachment)}"'
            ),
            "X-Content-Type-Options": "nosniff",
        },
    )
