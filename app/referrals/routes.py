"""Referral pages: the panels, the template helpers and the referral lists; the directory
(directory_routes) and a referral's own pages (referral_pages) register on the same blueprint.
Thin views: scoped load, check, validate, one service, one commit."""

from __future__ import annotations

from flask import render_template, request
from flask_babel import LazyString
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.cases.queries import get_case_or_404
from app.categories import category_label
from app.home.panels import register_panel
from app.permissions import Role, current_actor, roles_required
from app.referrals import permissions as perms
from app.referrals import queries, sharing
from app.referrals.blueprint import REFERRAL_ROLES, bp
from app.referrals.status import ReferralStatus, local_today, reason_label, status_label
from app.web.params import page_arg
from app.web.templating import format_number

READERS = perms.DIRECTORY_READERS


def _overdue_text() -> str:
    return _(
        "Chuyển gửi đã quá hạn trả lời: %(n)s",
        n=format_number(queries.overdue_count(current_actor())),
    )


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
    is_personal=True,
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


# The other pages of the blueprint, split by concern.
from app.referrals import directory_routes, referral_pages  # noqa: E402,F401
