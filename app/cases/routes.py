"""Case pages: the list and search, and the blueprint's other pages by concern (case_pages,
case_actions, assignment_routes, intake_routes, rights_routes, access_routes, consent_routes,
attachment_routes, history_routes, import_routes, unreadable_routes). Thin views: scoped load,
check, validate, one service, commit."""

from __future__ import annotations

from types import SimpleNamespace

from flask import render_template, request, url_for
from flask_babel import lazy_gettext as _l

from app.cases import consents as cons
from app.cases import forms as F
from app.cases import permissions as perms
from app.cases import queries, services
from app.cases.blueprint import bp
from app.cases.case_pages import format_birth
from app.cases.fields import ERASED_LABEL, display_name
from app.cases.unreadable import report_unreadable, unreadable_name
from app.categories import CATEGORY_LABELS, SupportCategory, category_label
from app.crypto.envelope import unseal
from app.db import reads_first, utcnow
from app.extensions import db
from app.home.panels import register_panel
from app.permissions import Role, current_actor, roles_required
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


@bp.app_context_processor
def _case_helpers():
    return {
        "case_status_label": lambda s: str(F.STATUS_LABELS.get(s, s)),
        "need_status_label": lambda s: str(F.NEED_STATUS_LABELS.get(s, s)),
        "closed_reason_label": lambda s: str(F.CLOSED_REASON_LABELS.get(s, s)) if s else "",
        "purpose_label": cons.purpose_label,
        "category_label": category_label,
        "format_birth": format_birth,
        "now_vn": lambda: format_datetime(utcnow()),
    }


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
        units=queries.scope_units(actor),
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
@reads_first
def search():
    # POST so the term never reaches a URL, a proxy log or the browser history. It reads in a
    # snapshot like the list: holding SQLite's write lock from the start, one search held up
    # every other worker's writes for its token lookups and decryption (52 searches a second
    # against 168 list pages at 100,000 cases).
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


# The other pages of the blueprint, split by concern.
from app.cases import (  # noqa: E402,F401
    access_routes,
    assignment_routes,
    attachment_routes,
    case_actions,
    case_pages,
    consent_routes,
    history_routes,
    import_routes,
    intake_routes,
    rights_routes,
    unreadable_routes,
)
