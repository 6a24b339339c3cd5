"""Consent purposes and pure helpers: is a purpose in force, may a category be shared."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_babel import lazy_gettext as _l

from app.categories import CATEGORY_LABELS, SENSITIVE_CATEGORIES, SupportCategory

if TYPE_CHECKING:
    from app.cases.models import Case

# The consent text read out at intake; its version is stored with every consent given.
CONSENT_TEXT_VERSION = "2026-01"

RECORD = "record"
CONTACT_PHONE = "contact_phone"
SHARE_HIV = "share_hiv"
SHARE_HEALTH_DETAILS = "share_health_details"
SHARE_VIOLENCE_DETAILS = "share_violence_details"
# To be recognised by a service she is referred to again: its own reference for her
# (app/referrals/references.py). Without it, each referral reaches a partner as a stranger.
SHARE_IDENTITY = "share_identity"
SHARE_PREFIX = "share:"


def share_purpose(category: str) -> str:
    return SHARE_PREFIX + SupportCategory(category).value


ALL_PURPOSES: tuple[str, ...] = (
    RECORD,
    *(share_purpose(c) for c in SupportCategory),
    CONTACT_PHONE,
    SHARE_HIV,
    SHARE_HEALTH_DETAILS,
    SHARE_VIOLENCE_DETAILS,
    SHARE_IDENTITY,
)

_PURPOSE_LABELS = {
    RECORD: _l("Ghi nhận và lưu hồ sơ hỗ trợ"),
    CONTACT_PHONE: _l("Liên lạc qua điện thoại"),
    SHARE_HIV: _l("Chia sẻ tình trạng HIV (đồng ý riêng)"),
    SHARE_HEALTH_DETAILS: _l("Chia sẻ thông tin sức khỏe chi tiết"),
    SHARE_VIOLENCE_DETAILS: _l("Chia sẻ thông tin về bạo lực đã trải qua"),
    SHARE_IDENTITY: _l("Cho cơ sở dịch vụ nhận ra các lần chuyển gửi của cùng một người"),
}


# Why a consent is withdrawn: codes only (free text could carry what she said about herself).
WITHDRAWAL_REASONS = {
    "her_request": _l("Người được hỗ trợ yêu cầu"),
    "guardian_request": _l("Người giám hộ yêu cầu"),
    "recorded_in_error": _l("Đã ghi nhận nhầm"),
    "other": _l("Lý do khác"),
}


def purpose_label(purpose: str) -> str:
    if purpose.startswith(SHARE_PREFIX):
        category = SupportCategory(purpose[len(SHARE_PREFIX) :])
        return str(_l("Chia sẻ với cơ sở dịch vụ: %(c)s", c=CATEGORY_LABELS[category]))
    return str(_PURPOSE_LABELS.get(purpose, purpose))


def is_sensitive_purpose(purpose: str) -> bool:
    """Sharing HIV status, health or violence details, or a sensitive category: its very
    existence says something about her health or history."""
    if purpose in (SHARE_HIV, SHARE_HEALTH_DETAILS, SHARE_VIOLENCE_DETAILS):
        return True
    return purpose.startswith(SHARE_PREFIX) and purpose[len(SHARE_PREFIX) :] in {
        c.value for c in SENSITIVE_CATEGORIES
    }


def is_valid_purpose(purpose: str) -> bool:
    return purpose in ALL_PURPOSES


def consent_in_force(case: Case, purpose: str) -> bool:
    """True when a consent for `purpose` was given and not withdrawn."""
    return any(c.purpose == purpose and c.withdrawn_at is None for c in case.consents)


def can_process(case: Case) -> bool:
    """Recording consent in force, processing not restricted, not erased."""
    return case.erased_at is None and not case.is_restricted and consent_in_force(case, RECORD)


def can_share(case: Case, category: str) -> bool:
    """Sharing consent for the category in force, and the case neither restricted nor erased."""
    return can_process(case) and consent_in_force(case, share_purpose(category))


def purposes_in_force(case: Case) -> list[str]:
    """The purposes she consented to and has not withdrawn; none once the case is erased (its
    data is gone, nothing can be processed or shared under them any more)."""
    if case.erased_at is not None:
        return []
    return [c.purpose for c in case.consents if c.withdrawn_at is None]
