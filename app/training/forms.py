"""The training pages' forms (Flask-WTF). Shapes only: the rules live in services.check_entry."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.widgets import NumberInput

from app.training.services import Entry, Headcount
from app.training.vocab import FORMATS, MAX_HEADCOUNT, ORGANIZER_MAX, TOPIC_MAX
from app.web.forms import LocalDateField, choices

# Empty head-count lines offered on the page (more can be added by saving and editing again).
SPARE_HEADCOUNT_LINES = 3


class CountField(IntegerField):
    """A whole number of people, empty for none; a Vietnamese message for anything else."""

    widget = NumberInput(min=0, max=MAX_HEADCOUNT)

    def process_formdata(self, valuelist):
        self.data = None
        text = (valuelist[0] if valuelist else "").strip()
        if text:
            try:
                self.data = int(text)
            except ValueError:
                raise ValueError(_l("Số người phải là số nguyên không âm.")) from None


def _optional_int(value):
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


class HeadcountForm(Form):
    org_unit_id = SelectField(_l("Đơn vị"), coerce=_optional_int, validate_choice=False)
    officers = CountField(_l("Cán bộ không có tài khoản"))
    volunteers = CountField(_l("Tình nguyện viên"))


class SessionForm(FlaskForm):
    org_unit_id = SelectField(_l("Đơn vị tổ chức"), coerce=_optional_int, validate_choice=False)
    held_on = LocalDateField(_l("Ngày tập huấn"))
    topic = StringField(
        _l("Nội dung tập huấn"), render_kw={"maxlength": TOPIC_MAX, "autocomplete": "off"}
    )
    organizer = StringField(
        _l("Cơ quan tổ chức, phối hợp"),
        render_kw={"maxlength": ORGANIZER_MAX, "autocomplete": "off"},
    )
    format = RadioField(_l("Hình thức"), choices=choices(FORMATS.items()), validate_choice=False)
    attendee_ids = SelectMultipleField(
        _l("Cán bộ, tình nguyện viên có tài khoản đã tham dự"), coerce=int, validate_choice=False
    )
    headcounts = FieldList(FormField(HeadcountForm), label=_l("Người tham dự không có tài khoản"))

    def set_unit_choices(self, units) -> None:
        options = [(u.id, f"{u.name} ({u.code})") for u in units]
        self.org_unit_id.choices = choices(options)
        for line in self.headcounts:
            line.form.org_unit_id.choices = choices([("", "—"), *options])

    def to_entry(self) -> Entry:
        return Entry(
            org_unit_id=self.org_unit_id.data,
            held_on=self.held_on.data,
            topic=self.topic.data or "",
            organizer=self.organizer.data or "",
            format=self.format.data,
            attendee_ids=sorted(set(self.attendee_ids.data or [])),
            headcounts=[
                Headcount(
                    line.form.org_unit_id.data, line.form.officers.data, line.form.volunteers.data
                )
                for line in self.headcounts
            ],
        )

    def add_errors(self, errors: dict[str, str]) -> list[str]:
        """Attach service errors to their fields; return those that belong to no field."""
        loose = []
        for name, message in errors.items():
            field = self._fields.get(name)
            if field is None or name == "headcounts":
                loose.append(message)
            else:
                field.errors = [*field.errors, message]
        return loose




class StaffingForm(FlaskForm):
    """CSRF only: the staff-in-post inputs are one per unit, read by the view."""
