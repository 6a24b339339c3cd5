"""The referral status machine (DESIGN.md "Referrals"), as pure data and functions.

Statuses are HL7 FHIR `Task.status` as profiled by the Gravity Project SDOH Clinical Care guide.
`TRANSITIONS` is the table of DESIGN.md row by row: (from, to) -> the kinds of actor allowed,
with one deliberate difference (issue #13): partners only accept, decline, waitlist, start and
record the outcome. DESIGN.md lets partners cancel "any open" referral, but a partner who cannot
help declines (requested) or records a failure (accepted and later) with a reason; cancelling is
the caseworker's decision about her client, so partners are neither offered nor allowed it.
Terminal statuses never change, except that a caseworker may mark any referral
`entered-in-error` (FHIR's correction status, itself final and excluded from every figure).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l

from app.i18n import LOCAL_TZ


class ReferralStatus(StrEnum):
    DRAFT = "draft"
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    COMPLETED = "completed"
    FAILED = "failed"
    ENTERED_IN_ERROR = "entered-in-error"


class ReasonCode(StrEnum):
    """Crosswalked to findhelp, HUD HMIS 4.20.D, Healthify and BSeR (DESIGN.md)."""

    SERVICE_RECEIVED = "service_received"
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    CLIENT_DECLINED = "client_declined"
    NOT_ELIGIBLE = "not_eligible"
    NO_CAPACITY = "no_capacity"
    OUT_OF_SERVICE_AREA = "out_of_service_area"
    MISSING_DOCUMENTS = "missing_documents"
    COULD_NOT_CONTACT = "could_not_contact"
    NO_SHOW = "no_show"
    REFERRED_ELSEWHERE = "referred_elsewhere"
    EXPIRED_NO_RESPONSE = "expired_no_response"
    SERVICE_NOT_PROVIDED_OTHER = "service_not_provided_other"


class Party(StrEnum):
    """Who acts on a referral: the kinds of actor the transition table names."""

    CASEWORKER = "caseworker"
    PARTNER = "partner"
    SYSTEM = "system"


def local_today() -> date:
    """Today in Vietnam: due dates are calendar days where the people are, not on the server."""
    return datetime.now(LOCAL_TZ).date()


S = ReferralStatus
R = ReasonCode
CW, PA, SY = Party.CASEWORKER, Party.PARTNER, Party.SYSTEM

OPEN_STATUSES = frozenset({S.DRAFT, S.REQUESTED, S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD})
TERMINAL_STATUSES = frozenset(S) - OPEN_STATUSES
# Referrals the partner has been sent (a draft is the caseworker's own, never shown to partners).
SENT_STATUSES = frozenset(S) - {S.DRAFT}
CONNECTED_OUTCOMES = frozenset({R.SERVICE_RECEIVED, R.ENROLLED})

# Reason codes a person may give for each ending (the system's own code is expiry).
REJECT_REASONS = (
    R.NOT_ELIGIBLE,
    R.NO_CAPACITY,
    R.OUT_OF_SERVICE_AREA,
    R.MISSING_DOCUMENTS,
    R.COULD_NOT_CONTACT,
    R.CLIENT_DECLINED,
    R.REFERRED_ELSEWHERE,
    R.SERVICE_NOT_PROVIDED_OTHER,
)
FAIL_REASONS = (
    R.NO_SHOW,
    R.COULD_NOT_CONTACT,
    R.CLIENT_DECLINED,
    R.NOT_ELIGIBLE,
    R.MISSING_DOCUMENTS,
    R.NO_CAPACITY,
    R.REFERRED_ELSEWHERE,
    R.SERVICE_NOT_PROVIDED_OTHER,
)
CANCEL_REASONS = (
    R.CLIENT_DECLINED,
    R.COULD_NOT_CONTACT,
    R.REFERRED_ELSEWHERE,
    R.NOT_ELIGIBLE,
    R.NO_CAPACITY,
    R.OUT_OF_SERVICE_AREA,
    R.SERVICE_NOT_PROVIDED_OTHER,
)
SYSTEM_CANCEL_REASONS = (R.EXPIRED_NO_RESPONSE,)

_PARTNER_SIDE = frozenset({PA, CW})  # a caseworker may record a partner's answer (by phone)

# (from, to) -> who may make the move. One entry per row of DESIGN.md "Referrals".
TRANSITIONS: dict[tuple[ReferralStatus, ReferralStatus], frozenset[Party]] = {
    (S.DRAFT, S.REQUESTED): frozenset({CW}),
    (S.REQUESTED, S.ACCEPTED): _PARTNER_SIDE,
    (S.REQUESTED, S.REJECTED): _PARTNER_SIDE,
    (S.ACCEPTED, S.IN_PROGRESS): _PARTNER_SIDE,
    (S.ACCEPTED, S.ON_HOLD): _PARTNER_SIDE,
    **{(s, S.COMPLETED): _PARTNER_SIDE for s in (S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD)},
    **{(s, S.FAILED): _PARTNER_SIDE for s in (S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD)},
    # Any open referral may be cancelled by the caseworker (never by the partner: see above);
    # the system cancels a request left unanswered past respond_by.
    (S.DRAFT, S.CANCELLED): frozenset({CW}),
    (S.REQUESTED, S.CANCELLED): frozenset({CW, SY}),
    **{(s, S.CANCELLED): frozenset({CW}) for s in (S.ACCEPTED, S.IN_PROGRESS, S.ON_HOLD)},
    **{(s, S.ENTERED_IN_ERROR): frozenset({CW}) for s in S if s is not S.ENTERED_IN_ERROR},
}


@dataclass(frozen=True)
class Requirement:
    """What a transition must carry besides the actor."""

    reason_codes: tuple[ReasonCode, ...] = ()  # one of these is required when not empty
    outcome: bool = False  # completed: outcome service_received/enrolled and the service date
    note: bool = False  # entered-in-error: a note saying what was wrong
    verified_by: bool = False  # a caseworker recording a completion says who verified it


def requirement(to: ReferralStatus, party: Party) -> Requirement:
    """What moving to `to` must carry when made by `party`."""
    if to is S.REJECTED:
        return Requirement(reason_codes=REJECT_REASONS)
    if to is S.FAILED:
        return Requirement(reason_codes=FAIL_REASONS)
    if to is S.CANCELLED:
        return Requirement(reason_codes=SYSTEM_CANCEL_REASONS if party is SY else CANCEL_REASONS)
    if to is S.COMPLETED:
        return Requirement(outcome=True, verified_by=party is CW)
    if to is S.ENTERED_IN_ERROR:
        return Requirement(note=True)
    return Requirement()


def is_allowed(current: ReferralStatus, to: ReferralStatus, party: Party | None) -> bool:
    """True when `party` may move a referral from `current` to `to`."""
    if party is None:
        return False
    return party in TRANSITIONS.get((ReferralStatus(current), ReferralStatus(to)), frozenset())


def next_statuses(current: ReferralStatus, party: Party | None) -> list[ReferralStatus]:
    """The statuses `party` may move to from `current`, in table order."""
    return [to for (frm, to), who in TRANSITIONS.items() if frm == current and party in who]


def is_terminal(status: ReferralStatus | str) -> bool:
    return ReferralStatus(status) in TERMINAL_STATUSES


STATUS_LABELS = {
    S.DRAFT: _l("Bản nháp"),
    S.REQUESTED: _l("Đã gửi, chờ trả lời"),
    S.ACCEPTED: _l("Đã tiếp nhận"),
    S.REJECTED: _l("Bị từ chối"),
    S.CANCELLED: _l("Đã huỷ"),
    S.IN_PROGRESS: _l("Đang cung cấp dịch vụ"),
    S.ON_HOLD: _l("Danh sách chờ"),
    S.COMPLETED: _l("Đã nhận dịch vụ"),
    S.FAILED: _l("Không thành công"),
    S.ENTERED_IN_ERROR: _l("Nhập nhầm"),
}

# The verb on the button that makes each move.
ACTION_LABELS = {
    S.REQUESTED: _l("Gửi chuyển gửi"),
    S.ACCEPTED: _l("Tiếp nhận"),
    S.REJECTED: _l("Từ chối"),
    S.CANCELLED: _l("Huỷ chuyển gửi"),
    S.IN_PROGRESS: _l("Bắt đầu cung cấp dịch vụ"),
    S.ON_HOLD: _l("Đưa vào danh sách chờ"),
    S.COMPLETED: _l("Ghi nhận kết quả: đã nhận dịch vụ"),
    S.FAILED: _l("Ghi nhận: không thành công"),
    S.ENTERED_IN_ERROR: _l("Đánh dấu nhập nhầm"),
}

REASON_LABELS = {
    R.SERVICE_RECEIVED: _l("Đã nhận dịch vụ"),
    R.ENROLLED: _l("Đã ghi danh / nhập học"),
    R.WAITLISTED: _l("Trong danh sách chờ"),
    R.CLIENT_DECLINED: _l("Người được hỗ trợ không muốn tiếp tục"),
    R.NOT_ELIGIBLE: _l("Không đủ điều kiện"),
    R.NO_CAPACITY: _l("Cơ sở hết chỗ / quá tải"),
    R.OUT_OF_SERVICE_AREA: _l("Ngoài địa bàn phục vụ"),
    R.MISSING_DOCUMENTS: _l("Thiếu giấy tờ"),
    R.COULD_NOT_CONTACT: _l("Không liên lạc được"),
    R.NO_SHOW: _l("Không đến"),
    R.REFERRED_ELSEWHERE: _l("Đã chuyển gửi nơi khác"),
    R.EXPIRED_NO_RESPONSE: _l("Quá hạn, không có trả lời"),
    R.SERVICE_NOT_PROVIDED_OTHER: _l("Không cung cấp được dịch vụ (lý do khác)"),
}

PRIORITIES = ("routine", "urgent", "asap")  # FHIR request-priority codes
PRIORITY_LABELS = {
    "routine": _l("Bình thường"),
    "urgent": _l("Khẩn"),
    "asap": _l("Càng sớm càng tốt"),
}


def status_label(status) -> str:
    return str(STATUS_LABELS[ReferralStatus(status)])


def reason_label(code) -> str:
    return str(REASON_LABELS[ReasonCode(code)]) if code else ""
