"""The case page and what every case action shares: the scoped load (404), the refusal
(403, audited) and `act`, which runs one action through load, check, service and one commit
(part of the cases blueprint)."""

from __future__ import annotations

import functools

from flask import flash, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l

from app.cases import attachments, queries, services
from app.cases import consents as cons
from app.cases import forms as F
from app.cases import permissions as perms
from app.cases.blueprint import bp
from app.cases.fields import ERASED_LABEL, read_fields, read_note
from app.cases.models import Case
from app.categories import SupportCategory
from app.db import commit_keeping_loaded
from app.extensions import db
from app.permissions import (
    ALL_ROLES,
    Actor,
    PermissionDenied,
    Role,
    current_actor,
    deny,
    roles_required,
)

FIELD_LABELS = {
    "full_name": _l("Họ và tên"),
    "other_names": _l("Tên gọi khác"),
    "preferred_name": _l("Tên muốn được gọi"),
    "date_of_birth": _l("Ngày sinh / năm sinh"),
    "phone": _l("Số điện thoại"),
    "address": _l("Địa chỉ"),
    "id_number": _l("Số CCCD / giấy tờ tùy thân"),
    "health_details": _l("Thông tin sức khỏe"),
    "violence_details": _l("Thông tin về bạo lực đã trải qua"),
}


def format_birth(value: str | None) -> str:
    if not value:
        return ""
    if len(value) == 10:
        y, m, d = value.split("-")
        return f"{d}/{m}/{y}"
    return value


def attach_error(form, exc: services.CaseError) -> None:
    target = {
        "consent_record": "consent_record",
        "consent_purposes": "consent_share",
        "consent_method": "consent_method",
    }.get(exc.field_name, exc.field_name)
    fld = getattr(form, target or "", None)
    if fld is not None and hasattr(fld, "errors"):
        fld.errors = [*list(fld.errors or []), str(exc.message)]
    else:
        flash(str(exc.message), "error")


def load_case(code: str) -> Case:
    return queries.get_case_or_404(current_actor(), code)


def load_managed_case(code: str) -> tuple[Actor, Case]:
    """Scoped load (404), then the caseworker's right to manage it (403, audited): the pages of
    a case's management (assignment, consent, correction, printout)."""
    actor = current_actor()
    case = load_case(code)
    if not perms.can_manage(actor, case):
        refuse(actor, case)
    return actor, case


# The newest entries of "who saw it" on the case page; the rest a page away. A case opened
# every day soon has hundreds, and rendering 200 rows was most of the page's time and weight.
HISTORY_ON_CASE_PAGE = 20


class EmptyCaseForms:
    """The case page's own forms (note, need, status), built only when their fields are drawn:
    once per language, since the page keeps their HTML (shared_fragment)."""

    @functools.cached_property
    def note(self) -> F.NoteForm:
        return F.NoteForm(formdata=None)

    @functools.cached_property
    def need(self) -> F.NeedForm:
        return F.NeedForm(formdata=None)

    @functools.cached_property
    def status(self) -> F.StatusForm:
        return F.StatusForm(formdata=None)


def detail_context(actor, case: Case) -> dict:
    sees = perms.sees_sensitive(actor)
    fields = perms.visible_fields(actor)
    values = read_fields(case, fields) if not case.is_erased else {}
    needs = perms.visible_needs(actor, case)
    consents = [c for c in case.consents if perms.shows_purpose(actor, c.purpose)]
    notes = [(n, read_note(case, n)) for n in case.notes if sees or not n.is_sensitive]
    manage = perms.can_manage(actor, case)
    history = queries.case_access_history(case.code, limit=HISTORY_ON_CASE_PAGE + 1)
    from app.referrals.queries import connected_need_ids  # referrals builds on cases

    return {
        "case": case,
        "connected_need_ids": connected_need_ids(case),
        "can_refer": actor.role == Role.CASEWORKER and not case.is_erased,
        "values": values,
        "fields": fields,
        "labels": FIELD_LABELS,
        "needs": needs,
        "consents": consents,
        "notes": notes,
        "manage": manage,
        "can_note": perms.can_add_note(actor, case),
        "sees_sensitive": sees,
        "forms": EmptyCaseForms(),
        "history": history[:HISTORY_ON_CASE_PAGE],
        "more_history": len(history) > HISTORY_ON_CASE_PAGE,
        "grants": queries.break_glass_grants(case),
        "erased_label": ERASED_LABEL,
        "can_share": {c: cons.can_share(case, c) for c in SupportCategory},
        "next_step": services.needs_next_step(case),
        "attachments": attachments.attachments_of(actor, case),
        "can_attach": attachments.can_upload(actor, case),
        "attachment_kind_labels": F.ATTACHMENT_KIND_LABELS,
        "need_status_choices": list(F.NEED_STATUS_LABELS.items()),
        "closed_reason_labels": F.CLOSED_REASON_LABELS,
    }


def render_detail(case: Case, status: int = 200, via: str = "page"):
    actor = current_actor()
    # Read and decrypt in the request's read snapshot (SQLite: without the write lock, which
    # the other workers wait on), then record the view: the write lock is held for the audit
    # event only. Nothing is shown before the view is committed.
    ctx = detail_context(actor, case)
    services.record_view(actor, case, via=via)
    commit_keeping_loaded(db.session)
    return render_template("cases/detail.html", **ctx), status


@bp.get("/cases/<code>")
@roles_required(*ALL_ROLES)
def detail(code: str):
    return render_detail(load_case(code))


def refuse(actor, case: Case):
    """In scope but not allowed (a volunteer closing a case, an admin under break-glass
    editing): 403, audited."""
    deny(actor, "case", case.code)


def act(code: str, action, success: str, *, manage: bool = True, on_error=None):
    """Run one case action: scoped load (404), check (403), the service, one commit; a refused
    rule re-renders the case page with 400, or calls `on_error(case, exc)` for an action that
    has a page of its own (assignment, consent), which then shows the message beside its form."""
    actor = current_actor()
    case = load_case(code)
    allowed = perms.can_manage(actor, case) if manage else perms.can_add_note(actor, case)
    if not allowed:
        refuse(actor, case)
    try:
        action(actor, case)
    except services.CaseError as exc:
        db.session.rollback()
        case = load_case(code)
        if on_error is not None:
            return on_error(case, exc)
        flash(str(exc.message), "error")
        return render_detail(case, 400)
    except PermissionDenied:
        refuse(actor, case)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("cases.detail", code=code))
