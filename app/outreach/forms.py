"""The outreach page form (Flask-WTF). Shapes only: the rules live in services.check_entry."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Regexp
from wtforms.widgets import NumberInput

from app.outreach.services import Entry
from app.outreach.vocab import AUDIENCES, FORMS, NOTES_MAX, PARTNERS_MAX, PLACES, TOPICS
from app.web.forms import choices

KEY_PATTERN = r"^[A-Za-z0-9_-]{8,64}$"


def parse_date(text: str) -> date:
    """dd/mm/yyyy as people type it, or yyyy-mm-dd as date pickers send it."""
    text = text.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a calendar date)
        except ValueError:
            continue
    raise ValueError(text)


class DateTextField(StringField):
    """A date typed or picked; a clear message instead of WTForms' English one."""

    def process_formdata(self, valuelist):
        self.raw = valuelist[0] if valuelist else ""
        self.data = None
        if self.raw.strip():
            try:
                self.data = parse_date(self.raw)
            except ValueError:
                raise ValueError(_l("Ngày không hợp lệ (dd/mm/yyyy).")) from None

    def _value(self):
        if isinstance(self.data, date):
            return self.data.isoformat()
        return getattr(self, "raw", "") or ""


class CountField(IntegerField):
    widget = NumberInput(min=0, max=100000)

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if text:
            try:
                self.data = int(text)
            except ValueError:
                raise ValueError(_l("Số người phải là số nguyên không âm.")) from None


class OutreachForm(FlaskForm):
    idempotency_key = HiddenField(
        validators=[DataRequired(_l("Thiếu mã gửi; hãy tải lại trang.")), Regexp(KEY_PATTERN)]
    )
    org_unit_id = SelectField(_l("Xã/phường"), coerce=int, validate_choice=False)
    held_on = DateTextField(_l("Ngày tổ chức"))
    form = RadioField(_l("Hình thức"), choices=choices(FORMS.items()), validate_choice=False)
    topics = SelectMultipleField(
        _l("Chủ đề"), choices=choices(TOPICS.items()), validate_choice=False
    )
    place = RadioField(_l("Địa điểm"), choices=choices(PLACES.items()), validate_choice=False)
    reached_business_workers = CountField(AUDIENCES["business_workers"])
    reached_industrial_workers = CountField(AUDIENCES["industrial_workers"])
    reached_students = CountField(AUDIENCES["students"])
    reached_wu_members = CountField(AUDIENCES["wu_members"])
    reached_public = CountField(AUDIENCES["public"])
    reached_high_risk = CountField(AUDIENCES["high_risk"])
    partners_involved = StringField(
        _l("Đơn vị phối hợp"), render_kw={"maxlength": PARTNERS_MAX, "autocomplete": "off"}
    )
    notes = TextAreaField(
        _l("Ghi chú"), render_kw={"maxlength": NOTES_MAX, "autocomplete": "off", "rows": 2}
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.reached_errors: list[str] = []

    def audience_fields(self):
        return [getattr(self, f"reached_{code}") for code in AUDIENCES]

    def to_entry(self) -> Entry:
        return Entry(
            org_unit_id=self.org_unit_id.data,
            held_on=self.held_on.data,
            form=self.form.data,
            place=self.place.data,
            topics=list(self.topics.data or []),
            reached={code: getattr(self, f"reached_{code}").data for code in AUDIENCES},
            partners_involved=self.partners_involved.data or "",
            notes=self.notes.data or "",
        )

    def add_errors(self, errors: dict[str, str]) -> list[str]:
        """Attach service errors to their fields; return those that belong to no field."""
        loose = []
        for name, message in errors.items():
            field = self._fields.get(name)
            if name == "reached":
                self.reached_errors.append(message)
            elif field is None:
                loose.append(message)
            else:
                field.errors = [*field.errors, message]
        return loose


