"""Support categories named by the plans (DESIGN.md, "What is recorded"), shared by every module."""

from enum import StrEnum

from flask_babel import lazy_gettext as _l


class SupportCategory(StrEnum):
    VOCATIONAL_TRAINING = "vocational_training"
    LOANS = "loans"
    JOBS = "jobs"
    HEALTH = "health"
    LEGAL_AID = "legal_aid"
    COUNSELLING = "counselling"
    SOCIAL_PROTECTION = "social_protection"
    VIOLENCE_SUPPORT = "violence_support"
    TRAFFICKING_SUPPORT = "trafficking_support"
    OTHER = "other"


CATEGORY_LABELS = {
    SupportCategory.VOCATIONAL_TRAINING: _l("Học nghề"),
    SupportCategory.LOANS: _l("Vay vốn"),
    SupportCategory.JOBS: _l("Việc làm"),
    SupportCategory.HEALTH: _l("Y tế"),
    SupportCategory.LEGAL_AID: _l("Trợ giúp pháp lý"),
    SupportCategory.COUNSELLING: _l("Tư vấn tâm lý"),
    SupportCategory.SOCIAL_PROTECTION: _l("Bảo trợ xã hội"),
    SupportCategory.VIOLENCE_SUPPORT: _l("Hỗ trợ nạn nhân bạo lực"),
    SupportCategory.TRAFFICKING_SUPPORT: _l("Hỗ trợ nạn nhân bị mua bán"),
    SupportCategory.OTHER: _l("Khác"),
}

# Categories whose details volunteers never see and blind indexes never cover.
SENSITIVE_CATEGORIES = frozenset(
    {
        SupportCategory.HEALTH,
        SupportCategory.VIOLENCE_SUPPORT,
        SupportCategory.TRAFFICKING_SUPPORT,
    }
)


def category_label(value) -> str:
    return str(CATEGORY_LABELS.get(SupportCategory(value), value))


def category_choices() -> list[tuple[str, str]]:
    return [(c.value, str(CATEGORY_LABELS[c])) for c in SupportCategory]
