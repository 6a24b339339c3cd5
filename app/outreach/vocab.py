"""The fixed lists of the outreach form, with the words the users see.

Codes are stored and exchanged (API, reports); labels are what the form and the Excel template
show. The Excel import accepts either.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FORMS = {
    "group_talk": _l("Nói chuyện nhóm"),
    "individual_counselling": _l("Tư vấn cá nhân"),
    "loudspeaker": _l("Phát thanh loa"),
    "leaflets": _l("Phát tờ rơi"),
    "social_media": _l("Đăng mạng xã hội"),
    "community_event": _l("Sự kiện cộng đồng"),
    "other": _l("Hình thức khác"),
}

TOPICS = {
    "prostitution_prevention": _l("Phòng, chống mại dâm"),
    "hiv_sti": _l("HIV và bệnh lây truyền qua đường tình dục"),
    "trafficking": _l("Phòng, chống mua bán người"),
    "gbv": _l("Phòng, chống bạo lực giới"),
    "law_policy": _l("Pháp luật, chính sách"),
    "support_services": _l("Dịch vụ hỗ trợ"),
}

PLACES = {
    "community": _l("Cộng đồng dân cư"),
    "industrial_zone": _l("Khu công nghiệp"),
    "school": _l("Trường học"),
    "business": _l("Cơ sở kinh doanh dịch vụ"),
    "online": _l("Trên mạng"),
}

# Audience code -> label; the column on OutreachActivity is "reached_<code>".
AUDIENCES = {
    "business_workers": _l("Người lao động tại cơ sở kinh doanh dịch vụ"),
    "industrial_workers": _l("Công nhân khu công nghiệp"),
    "students": _l("Học sinh, sinh viên"),
    "wu_members": _l("Hội viên phụ nữ"),
    "public": _l("Người dân"),
    "high_risk": _l("Nhóm nguy cơ cao"),
}

REACHED_COLUMNS = tuple(f"reached_{code}" for code in AUDIENCES)

# One event reaching more people than this is a typing error, not a figure.
MAX_REACHED = 100_000
PARTNERS_MAX = 200
NOTES_MAX = 500


def label(mapping: dict, code: str) -> str:
    return str(mapping.get(code, code))
