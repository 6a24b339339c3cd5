"""What can be notified, what the in-app inbox says, and what may leave the system.

Two texts per kind. The in-app one may name the referral, its service or the case code: only
the recipient sees it, and she could open that page anyway. The outside one (e-mail, SMS, Zalo)
is built from the kind and a count only — it takes no other argument, so no name, phone, case
code or support category can reach it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.permissions import Role


class Kind(StrEnum):
    REFERRAL_NEW = "referral.new"
    REFERRAL_ANSWERED = "referral.answered"
    REFERRAL_CANCELLED = "referral.cancelled"
    REFERRAL_DUE_SOON = "referral.due_soon"
    REFERRAL_OVERDUE = "referral.overdue"
    REFERRAL_EXPIRED = "referral.expired"
    CASE_ASSIGNED = "case.assigned"
    TRANSFER_REQUESTED = "case.transfer_requested"
    CASE_TRANSFERRED = "case.transferred"
    CONSENT_WITHDRAWN = "consent.withdrawn"
    FOLLOWUP_ASSIGNED = "followup.assigned"
    FOLLOWUP_DUE = "followup.due"
    CASE_UNREADABLE = "case.unreadable"
    DIGEST = "digest"


# The name of each kind on the settings page ("which events").
KIND_LABELS = {
    Kind.REFERRAL_NEW: _l("Chuyển gửi mới cho cơ sở của tôi"),
    Kind.REFERRAL_ANSWERED: _l("Cơ sở trả lời chuyển gửi của tôi"),
    Kind.REFERRAL_CANCELLED: _l("Chuyển gửi bị huỷ"),
    Kind.REFERRAL_DUE_SOON: _l("Chuyển gửi sắp đến hạn trả lời"),
    Kind.REFERRAL_OVERDUE: _l("Chuyển gửi quá hạn"),
    Kind.REFERRAL_EXPIRED: _l("Chuyển gửi hết hạn không có trả lời"),
    Kind.CASE_ASSIGNED: _l("Hồ sơ được giao cho tôi"),
    Kind.TRANSFER_REQUESTED: _l("Hồ sơ chờ đơn vị tôi tiếp nhận"),
    Kind.CASE_TRANSFERRED: _l("Hồ sơ đã chuyển xong"),
    Kind.CONSENT_WITHDRAWN: _l("Rút lại sự đồng ý trên hồ sơ của tôi"),
    Kind.FOLLOWUP_ASSIGNED: _l("Việc theo dõi được giao cho tôi"),
    Kind.FOLLOWUP_DUE: _l("Việc theo dõi đến hạn"),
    Kind.CASE_UNREADABLE: _l("Hồ sơ không đọc được (dữ liệu mã hoá không mở được)"),
    Kind.DIGEST: _l("Tóm tắt hằng ngày"),
}

# Which kinds each role can receive at all (the settings page offers only these).
ROLE_KINDS = {
    Role.PARTNER: (
        Kind.REFERRAL_NEW,
        Kind.REFERRAL_CANCELLED,
        Kind.REFERRAL_DUE_SOON,
        Kind.REFERRAL_OVERDUE,
        Kind.DIGEST,
    ),
    Role.CASEWORKER: (
        Kind.REFERRAL_ANSWERED,
        Kind.REFERRAL_OVERDUE,
        Kind.REFERRAL_EXPIRED,
        Kind.CASE_ASSIGNED,
        Kind.TRANSFER_REQUESTED,
        Kind.CASE_TRANSFERRED,
        Kind.CONSENT_WITHDRAWN,
        Kind.FOLLOWUP_ASSIGNED,
        Kind.FOLLOWUP_DUE,
        Kind.DIGEST,
    ),
    Role.ADMIN: (Kind.CASE_UNREADABLE, Kind.DIGEST),
    Role.VOLUNTEER: (
        Kind.CASE_ASSIGNED,
        Kind.FOLLOWUP_ASSIGNED,
        Kind.FOLLOWUP_DUE,
        Kind.DIGEST,
    ),
}


# One text per kind, translated only for the kind asked (a home page lists a dozen
# notifications; translating every kind's text for each cost 4 ms).
_INBOX: dict[str, Callable[[dict], str]] = {
    Kind.REFERRAL_NEW: lambda p: _(
        "Chuyển gửi mới %(ref)s: %(service)s", ref=p.get("ref", ""), service=p.get("service", "")
    ),
    Kind.REFERRAL_ANSWERED: lambda p: _(
        "Chuyển gửi %(ref)s (hồ sơ %(case)s): %(status)s",
        ref=p.get("ref", ""),
        case=p.get("case", ""),
        status=p.get("status_label", ""),
    ),
    Kind.REFERRAL_CANCELLED: lambda p: _("Chuyển gửi %(ref)s đã được huỷ", ref=p.get("ref", "")),
    Kind.REFERRAL_DUE_SOON: lambda p: _(
        "Chuyển gửi %(ref)s cần trả lời trước %(date)s",
        ref=p.get("ref", ""),
        date=p.get("date", ""),
    ),
    Kind.REFERRAL_OVERDUE: lambda p: _(
        "Chuyển gửi %(ref)s đã quá hạn trả lời (%(date)s)",
        ref=p.get("ref", ""),
        date=p.get("date", ""),
    ),
    Kind.REFERRAL_EXPIRED: lambda p: _(
        "Chuyển gửi %(ref)s (hồ sơ %(case)s) đã hết hạn, không có trả lời",
        ref=p.get("ref", ""),
        case=p.get("case", ""),
    ),
    Kind.CASE_ASSIGNED: lambda p: _("Hồ sơ %(case)s được giao cho bạn", case=p.get("case", "")),
    Kind.TRANSFER_REQUESTED: lambda p: _(
        "Hồ sơ %(case)s đang chờ đơn vị của bạn tiếp nhận", case=p.get("case", "")
    ),
    Kind.CASE_TRANSFERRED: lambda p: _(
        "Hồ sơ %(case)s đã được đơn vị mới tiếp nhận", case=p.get("case", "")
    ),
    Kind.CONSENT_WITHDRAWN: lambda p: _(
        "Hồ sơ %(case)s: người được hỗ trợ đã rút lại một sự đồng ý", case=p.get("case", "")
    ),
    Kind.FOLLOWUP_ASSIGNED: lambda p: _(
        "Việc theo dõi mới được giao cho bạn, hạn %(date)s", date=p.get("date", "")
    ),
    Kind.FOLLOWUP_DUE: lambda p: _("Việc theo dõi đến hạn %(date)s", date=p.get("date", "")),
    Kind.CASE_UNREADABLE: lambda p: _(
        "Hồ sơ %(case)s không đọc được: cần kiểm tra bộ khoá hoặc bản sao lưu",
        case=p.get("case", ""),
    ),
    Kind.DIGEST: lambda p: _("Việc hôm nay: %(count)s thông báo chưa đọc", count=p.get("count", 0)),
}


def inbox_text(kind: str, params: dict) -> str:
    """The in-app line, in the reader's language."""
    text = _INBOX.get(kind)
    if text is None:
        return _("Thông báo mới")
    return text({k: v for k, v in (params or {}).items() if isinstance(v, str | int)})


# What leaves the system: {n} is the recipient's unread notifications of that kind.
_OUTSIDE = {
    Kind.REFERRAL_NEW: "Có {n} chuyển gửi mới đang chờ cơ sở của bạn.",
    Kind.REFERRAL_ANSWERED: "Có {n} cập nhật mới của cơ sở dịch vụ về chuyển gửi của bạn.",
    Kind.REFERRAL_CANCELLED: "Có {n} chuyển gửi gửi cơ sở của bạn đã được huỷ.",
    Kind.REFERRAL_DUE_SOON: "Có {n} chuyển gửi sắp đến hạn trả lời.",
    Kind.REFERRAL_OVERDUE: "Có {n} chuyển gửi đã quá hạn trả lời.",
    Kind.REFERRAL_EXPIRED: "Có {n} chuyển gửi đã hết hạn vì không có trả lời.",
    Kind.CASE_ASSIGNED: "Có {n} hồ sơ mới được giao cho bạn.",
    Kind.TRANSFER_REQUESTED: "Có {n} hồ sơ đang chờ đơn vị của bạn tiếp nhận.",
    Kind.CASE_TRANSFERRED: "Có {n} hồ sơ đã được đơn vị mới tiếp nhận.",
    Kind.CONSENT_WITHDRAWN: "Có {n} thay đổi về sự đồng ý trên hồ sơ bạn phụ trách.",
    Kind.FOLLOWUP_ASSIGNED: "Có {n} việc theo dõi mới được giao cho bạn.",
    Kind.FOLLOWUP_DUE: "Có {n} việc theo dõi đến hạn.",
    Kind.CASE_UNREADABLE: "Có {n} hồ sơ không đọc được, cần quản trị kiểm tra.",
    Kind.DIGEST: "Việc hôm nay: bạn có {n} thông báo chưa đọc.",
}


def outside_text(kind: str, count: int) -> str:
    """The only text an e-mail, SMS or Zalo message carries (plus the link to the inbox)."""
    return "Cầu Nối: " + _OUTSIDE.get(Kind(kind), "Bạn có {n} thông báo mới.").format(
        n=max(1, int(count))
    )
