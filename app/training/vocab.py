"""The fixed lists of the training pages, with the words the users see."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

FORMATS = {
    "in_person": _l("Trực tiếp"),
    "online": _l("Trực tuyến"),
    "mixed": _l("Kết hợp trực tiếp và trực tuyến"),
    "field_visit": _l("Tham quan, trao đổi kinh nghiệm"),
}

TOPIC_MAX = 300
ORGANIZER_MAX = 200
# A head count larger than any session a unit holds is a typing mistake.
MAX_HEADCOUNT = 5_000
MAX_STAFF_IN_POST = 100_000
