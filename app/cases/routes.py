"""Case pages: list and search, intake, the case page and its actions, her rights, break-glass,
import, personal API tokens. Thin views: scoped load, check, validate, one service, commit."""

from __future__ import annotations

from types import SimpleNamespace

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.auth.models import ApiToken
from app.cases import attachments, queries, rights, services, tokens
from app.cases import consents as cons
from app.cases import forms as F
from app.cases import permissions as perms
from app.cases.blueprint import bp
from app.cases.fields import ERASED_LABEL, display_name, read_fields, read_note
from app.cases.models import ENCRYPTED_FIELDS, IDENTIFYING_FIELDS, Case
from app.cases.unreadable import report_unreadable, unreadable_name
from app.categories import CATEGORY_LABELS, SupportCategory, category_label
from app.crypto.envelope import unseal
from app.db import reads_first, utcnow
from app.extensions import db
from app.home.panels import register_panel
from app.permissions import (
    ALL_ROLES,
    PermissionDenied,
    Role,
    current_actor,
    deny,
    not_found,
    roles_required,
)
from app.web.params import MAX_ID
from app.web.templating import format_datetime

register_panel(
    "cases.index",
    _l("Hồ sơ hỗ trợ"),
    _l("Danh sách hồ sơ trong phạm vi của bạn, tìm kiếm và mở hồ sơ mới."),
    perms.CASE_ROLES,
    order=10,
)
register_panel(
    "cases.new",
    _l("Mở hồ sơ mới"),
    _l("Ghi nhận sự đồng ý, thông tin và nhu cầu hỗ trợ của người được hỗ trợ."),
    perms.CASE_ROLES,
    order=85,
)
register_panel(
    "cases.break_glass",
    _l("Truy cập khẩn cấp hồ sơ"),
    _l("Mở một hồ sơ trong 30 phút với lý do rõ ràng; mọi truy cập được ghi lại."),
    {Role.ADMIN},
    order=88,
)
register_panel(
    "cases.api_tokens",
    _l("Mã truy cập API"),
    _l("Tạo và thu hồi mã truy cập cá nhân cho API."),
    perms.CASE_ROLES,
    order=92,
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


@bp.app_context_processor
def _case_helpers():
    return {
        "case_status_label": lambda s: str(F.STATUS_LABELS.get(s, s)),
        "need_status_label": lambda s: str(F.NEED_STATUS_LABELS.get(s, s)),
        "closed_reason_label": lambda s: str(F.CLOSED_REASON_LABELS.get(s, s)) if s else "",
        "purpose_label": cons.purpose_label,
        "category_label": category_label,
        "format_birth": _format_birth,
        "now_vn": lambda: format_datetime(utcnow()),
    }


def _format_birth(value: str | None) -> str:
    if not value:
        return ""
    if len(value) == 10:
        y, m, d = value.split("-")
        return f"{d}/{m}/{y}"
    return value


# --- list and search -------------------------------------------------------------------------


def _list_filters() -> dict:
    status = request.args.get("status") or None
    category = request.args.get("category") or None
    return {
        "status": status if status in F.STATUS_LABELS else None,
        "category": category if category in set(SupportCategory) else None,
        "mine": request.args.get("mine") == "1",
        "attention": request.args.get("attention") == "1",
    }


class _RowMaker:
    """Builds the list's row dicts; the detail link and the status labels are computed once per
    page rather than once per row (url_for and a translation lookup per row cost more than the
    rest of the row)."""

    def __init__(self):
        # /cases/<code>: case codes are letters, digits and dashes, nothing to quote.
        self.prefix = url_for("cases.index")
        self.labels: dict[str, str] = {}

    def __call__(self, code, name, unit, status, is_restricted, opened_on) -> dict:
        label = self.labels.get(status)
        if label is None:
            label = self.labels[status] = str(F.STATUS_LABELS.get(status, status))
        return {
            "code": code,
            "href": self.prefix + code,
            "name": name,
            "unit": unit,
            "status": status,
            "status_label": label,
            "is_restricted": is_restricted,
            "opened_on": opened_on,
        }


def _rows(cases, unreadable: list[str]):
    """Plain values for the template, read before the commit expires the objects."""
    row = _RowMaker()
    return [
        row(
            c.code,
            unreadable_name(lambda c=c: display_name(c), c.code, unreadable),
            c.org_unit.name,
            c.status,
            c.is_restricted,
            c.opened_on,
        )
        for c in cases
    ]


@bp.get("/cases/")
@roles_required(*perms.CASE_ROLES)
@reads_first
def index():
    actor = current_actor()
    filters = _list_filters()
    page, items = queries.list_page(
        queries.filtered_cases(actor, **filters),
        after=_case_id_arg("after"),
        before=_case_id_arg("before"),
    )
    transfers = queries.incoming_transfers(actor)
    # Everything the page needs is read first, in a read snapshot (SQLite: without the write
    # lock; recording the view takes it), as plain rows that the commit does not expire.
    # Decrypting and rendering run after the commit, outside the transaction: nothing is shown
    # unless its view was recorded first.
    services.record_list_view(actor, [SimpleNamespace(code=item[1]) for item in items], via="list")
    db.session.commit()
    unreadable: list[str] = []
    rows = _list_rows(items, unreadable)
    if unreadable:  # its own short transaction, after the page's
        report_unreadable(actor, unreadable, via="list")
        db.session.commit()
    return render_template(
        "cases/list.html",
        rows=rows,
        page=page,
        filters=filters,
        search_form=F.SearchForm(),
        categories=_category_choices(actor),
        transfers=transfers,
        searched=False,
    )


def _case_id_arg(name: str) -> int | None:
    """A page boundary from the URL: a case id, or None when absent or out of range."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value <= MAX_ID else None


def _list_rows(items, unreadable: list[str]) -> list[dict]:
    """The list's rows from `queries.list_page`: only the full name is decrypted, each case's
    data key unwrapped once (envelope's per-request cache). A row that does not decrypt says
    so, and its code is added to `unreadable`."""
    row = _RowMaker()
    rows = []
    for case_id, code, status, is_restricted, opened_on, erased_at, name_enc, unit, key in items:
        if erased_at is not None:
            name = ERASED_LABEL
        elif name_enc is None:
            name = ""
        else:

            def read(key=key, name_enc=name_enc, case_id=case_id):
                return unseal(key, name_enc, table="cases", column="full_name_enc", row_id=case_id)

            name = unreadable_name(read, code, unreadable)
        rows.append(row(code, name or "", unit, status, is_restricted, opened_on))
    return rows


def _category_choices(actor):
    return [
        (c.value, CATEGORY_LABELS[c]) for c in perms.visible_need_categories(actor, SupportCategory)
    ]


def _render_search(actor, rows: list[dict], form: F.SearchForm, status: int = 200):
    return render_template(
        "cases/list.html",
        rows=rows,
        page=None,
        filters=_list_filters(),
        search_form=form,
        categories=_category_choices(actor),
        transfers=[],
        searched=True,
    ), status


@bp.post("/cases/search")
@roles_required(*perms.CASE_ROLES)
def search():
    # POST so the term never reaches a URL, a proxy log or the browser history.
    actor = current_actor()
    form = F.SearchForm()
    if not form.validate_on_submit():
        return _render_search(actor, [], form, 400)
    cases = queries.search_cases(actor, form.q.data)
    unreadable: list[str] = []
    rows = _rows(cases, unreadable)
    services.record_list_view(actor, cases, via="search")
    report_unreadable(actor, unreadable, via="search")
    db.session.commit()
    # The term stays in the box (the page is the answer to a POST: it never reaches a URL).
    return _render_search(actor, rows, form)


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
        _attach_error(form, exc)
        return _render_intake(form, 400)
    db.session.commit()
    flash(_("Đã mở hồ sơ %(code)s.", code=case.code), "success")
    return redirect(url_for("cases.detail", code=case.code))


def _attach_error(form, exc: services.CaseError) -> None:
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


# --- the case page ---------------------------------------------------------------------------


def _load(code: str) -> Case:
    return queries.get_case_or_404(current_actor(), code)


def _detail_context(actor, case: Case) -> dict:
    sees = perms.sees_sensitive(actor)
    fields = perms.visible_fields(actor)
    values = read_fields(case, fields) if not case.is_erased else {}
    needs = perms.visible_needs(actor, case)
    consents = [c for c in case.consents if perms.shows_purpose(actor, c.purpose)]
    notes = [(n, read_note(case, n)) for n in case.notes if sees or not n.is_sensitive]
    manage = perms.can_manage(actor, case)
    assign_form = F.AssignForm()
    transfer_form = F.TransferForm()
    if manage:
        assign_form.assigned_to_id.choices = [(0, "—")] + [
            (u.id, u.display_name or u.username) for u in queries.assignable_users(actor, case)
        ]
        assign_form.assigned_to_id.data = case.assigned_to_id or 0
        transfer_form.org_unit_id.choices = [
            (u.id, u.name) for u in queries.transfer_targets(actor, case)
        ]
    consent_form = F.ConsentForm(formdata=None)
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
        "note_form": F.NoteForm(formdata=None),
        "need_form": F.NeedForm(formdata=None),
        "status_form": F.StatusForm(formdata=None),
        "assign_form": assign_form,
        "transfer_form": transfer_form,
        "consent_form": consent_form,
        "history": queries.case_access_history(case.code),
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


def _render_detail(case: Case, status: int = 200, via: str = "page"):
    actor = current_actor()
    services.record_view(actor, case, via=via)
    ctx = _detail_context(actor, case)
    db.session.commit()
    return render_template("cases/detail.html", **ctx), status


@bp.get("/cases/<code>")
@roles_required(*ALL_ROLES)
def detail(code: str):
    return _render_detail(_load(code))


def _refuse(actor, case: Case):
    """In scope but not allowed (a volunteer closing a case, an admin under break-glass
    editing): 403, audited."""
    deny(actor, "case", case.code)


def _act(code: str, action, success: str, *, manage: bool = True):
    """Run one case action: scoped load (404), check (403), the service, one commit; a refused
    rule re-renders the case page with 400."""
    actor = current_actor()
    case = _load(code)
    allowed = perms.can_manage(actor, case) if manage else perms.can_add_note(actor, case)
    if not allowed:
        _refuse(actor, case)
    try:
        action(actor, case)
    except services.CaseError as exc:
        db.session.rollback()
        case = _load(code)
        flash(str(exc.message), "error")
        return _render_detail(case, 400)
    except PermissionDenied:
        _refuse(actor, case)
    db.session.commit()
    flash(success, "success")
    return redirect(url_for("cases.detail", code=code))


@bp.post("/cases/<code>/notes")
@roles_required(*ALL_ROLES)
def add_note(code: str):
    form = F.NoteForm()

    def action(actor, case):
        if not form.validate():
            raise services.CaseError(_l("Ghi chú đang trống."), "body")
        services.add_note(actor, case, form.body.data, bool(form.is_sensitive.data))

    return _act(code, action, _("Đã thêm ghi chú."), manage=False)


@bp.post("/cases/<code>/needs")
@roles_required(*ALL_ROLES)
def add_need(code: str):
    form = F.NeedForm()

    def action(actor, case):
        if not form.validate():
            raise services.CaseError(_l("Nhu cầu hỗ trợ không hợp lệ."), "needs")
        services.add_need(actor, case, form.category.data, form.priority.data)

    return _act(code, action, _("Đã thêm nhu cầu hỗ trợ."))


@bp.post("/cases/<code>/needs/<int:need_id>")
@roles_required(*ALL_ROLES)
def need_status(code: str, need_id: int):
    form = F.NeedStatusForm()

    def action(actor, case):
        need = next((n for n in case.needs if n.id == need_id), None)
        if need is None:
            abort(404)
        if not form.validate():
            raise services.CaseError(_l("Trạng thái nhu cầu không hợp lệ."), "status")
        services.set_need_status(actor, case, need, form.status.data)

    return _act(code, action, _("Đã cập nhật nhu cầu hỗ trợ."))


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

    return _act(code, action, _("Đã ghi nhận sự đồng ý."))


@bp.post("/cases/<code>/status")
@roles_required(*ALL_ROLES)
def set_status(code: str):
    form = F.StatusForm()

    def action(actor, case):
        if not form.validate():
            raise services.CaseError(_l("Trạng thái không hợp lệ."), "status")
        services.set_status(actor, case, form.status.data, form.closed_reason.data or None)

    return _act(code, action, _("Đã cập nhật trạng thái hồ sơ."))


@bp.post("/cases/<code>/assign")
@roles_required(*ALL_ROLES)
def assign(code: str):
    def action(actor, case):
        raw = request.form.get("assigned_to_id", "0")
        user_id = int(raw) if raw.isdigit() else -1
        services.assign_case(actor, case, user_id or None)

    return _act(code, action, _("Đã giao hồ sơ."))


@bp.post("/cases/<code>/transfer")
@roles_required(*ALL_ROLES)
def request_transfer(code: str):
    def action(actor, case):
        raw = request.form.get("org_unit_id", "")
        services.request_transfer(actor, case, int(raw) if raw.isdigit() else -1)

    return _act(code, action, _("Đã gửi yêu cầu chuyển hồ sơ."))


@bp.post("/cases/<code>/transfer/cancel")
@roles_required(*ALL_ROLES)
def cancel_transfer(code: str):
    return _act(code, services.cancel_transfer, _("Đã huỷ yêu cầu chuyển hồ sơ."))


@bp.post("/cases/<code>/transfer/accept")
@roles_required(*ALL_ROLES)
def accept_transfer(code: str):
    actor = current_actor()
    case = queries.get_incoming_transfer_or_404(actor, code)
    try:
        services.accept_transfer(actor, case)
    except PermissionDenied:
        _refuse(actor, case)
    db.session.commit()
    flash(_("Đã nhận hồ sơ %(code)s.", code=case.code), "success")
    return redirect(url_for("cases.detail", code=case.code))


# --- her rights ------------------------------------------------------------------------------


@bp.route("/cases/<code>/edit", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def edit(code: str):
    actor = current_actor()
    case = _load(code)
    if not perms.can_manage(actor, case):
        _refuse(actor, case)
    form = F.CorrectionForm()
    if not form.is_submitted():
        values = read_fields(case)
        for name, value in values.items():
            getattr(form, name).data = _format_birth(value) if name == "date_of_birth" else value
        form.reached_via.data = case.reached_via
        services.record_view(actor, case, via="edit")
        db.session.commit()
        return render_template("cases/edit.html", case=case, form=form)
    if not form.validate():
        return render_template("cases/edit.html", case=case, form=form), 400
    values = {name: getattr(form, name).data for name in ENCRYPTED_FIELDS}
    try:
        changed = services.correct_case(actor, case, values, form.reached_via.data)
    except services.CaseError as exc:
        db.session.rollback()
        _attach_error(form, exc)
        return render_template("cases/edit.html", case=_load(code), form=form), 400
    db.session.commit()
    flash(
        _("Đã sửa %(n)d mục.", n=len(changed)) if changed else _("Không có gì thay đổi."), "success"
    )
    return redirect(url_for("cases.detail", code=code))


@bp.get("/cases/<code>/print")
@roles_required(*ALL_ROLES)
def print_case(code: str):
    actor = current_actor()
    case = _load(code)
    if not perms.can_manage(actor, case):
        _refuse(actor, case)
    ctx = _detail_context(actor, case)
    ctx.update(rights.printout_context(actor, case))
    rights.record_print(actor, case)
    db.session.commit()
    return render_template("cases/print.html", **ctx)


@bp.post("/cases/<code>/restrict")
@roles_required(*ALL_ROLES)
def restrict(code: str):
    return _act(
        code,
        rights.restrict_processing,
        _("Đã hạn chế xử lý hồ sơ: mọi chia sẻ và chuyển gửi đã dừng."),
    )


@bp.post("/cases/<code>/unrestrict")
@roles_required(*ALL_ROLES)
def unrestrict(code: str):
    return _act(code, rights.lift_restriction, _("Đã bỏ hạn chế xử lý hồ sơ."))


@bp.route("/cases/<code>/erase", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def erase(code: str):
    actor = current_actor()
    case = _load(code)
    if not perms.can_erase(actor, case):
        _refuse(actor, case)
    form = F.EraseForm()
    if not form.is_submitted():
        # Reached from the next step after a withdrawn consent: its reason comes chosen.
        if request.args.get("reason") in rights.ERASURE_REASONS:
            form.reason.data = request.args["reason"]
        return render_template("cases/erase.html", case=case, form=form)
    if not form.validate():
        return render_template("cases/erase.html", case=case, form=form), 400
    try:
        rights.erase_case(actor, case, form.confirm_code.data, form.reason.data)
    except services.CaseError as exc:
        db.session.rollback()
        _attach_error(form, exc)
        return render_template("cases/erase.html", case=_load(code), form=form), 400
    db.session.commit()
    flash(_("Hồ sơ %(code)s đã được xoá vĩnh viễn.", code=code), "success")
    return redirect(url_for("cases.detail", code=code))


# --- break-glass -----------------------------------------------------------------------------


@bp.route("/cases/break-glass", methods=["GET", "POST"])
@roles_required(Role.ADMIN)
def break_glass():
    actor = current_actor()
    form = F.BreakGlassForm()
    if not form.is_submitted():
        return render_template("cases/break_glass.html", form=form)
    if not form.validate():
        return render_template("cases/break_glass.html", form=form), 400
    code = form.code.data.strip().upper()
    case = queries.get_case_by_code(code)
    if case is None:
        not_found(actor, "case", queries.clean_ref(code))
    try:
        services.open_break_glass(actor, case, form.reason.data)
    except services.CaseError as exc:
        db.session.rollback()
        _attach_error(form, exc)
        return render_template("cases/break_glass.html", form=form), 400
    db.session.commit()
    flash(_("Truy cập khẩn cấp đã mở trong 30 phút và được ghi vào nhật ký."), "warning")
    return redirect(url_for("cases.detail", code=case.code))


# --- personal API tokens ---------------------------------------------------------------------


@bp.route("/account/api-tokens", methods=["GET", "POST"])
@roles_required(*ALL_ROLES)
def api_tokens():
    actor = current_actor()
    form = F.TokenForm()
    plain = None
    status = 200
    if form.is_submitted():
        if form.validate():
            _token, plain = tokens.create_api_token(actor, form.name.data)
            db.session.commit()
            form = F.TokenForm(formdata=None)
        else:
            status = 400
    return render_template(
        "cases/api_tokens.html",
        form=form,
        plain=plain,
        tokens=tokens.tokens_of(actor),
        revoke_form=F.EmptyForm(),
    ), status


@bp.post("/account/api-tokens/<int:token_id>/revoke")
@roles_required(*ALL_ROLES)
def revoke_api_token(token_id: int):
    actor = current_actor()
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.user_id:
        not_found(actor, "api_token", str(token_id))
    tokens.revoke_api_token(actor, token)
    db.session.commit()
    flash(_("Đã thu hồi mã truy cập."), "success")
    return redirect(url_for("cases.api_tokens"))


# The other pages of the blueprint, split by concern.
from app.cases import (  # noqa: E402,F401
    attachment_routes,
    consent_routes,
    import_routes,
    unreadable_routes,
)
