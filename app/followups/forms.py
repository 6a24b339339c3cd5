"""Forms of the follow-ups page."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from app.web.forms import LocalDateField


class FollowUpForm(FlaskForm):
    due_on = LocalDateField(_l("Ngày hẹn"), validators=[Optional()])
    task = StringField(
        _l("Việc cần làm"),
        render_kw={
            "maxlength": 200,
            "autocomplete": "off",
            "placeholder": _l("ví dụ: gọi lại sau khám"),
        },
    )
    assignee_id = SelectField(_l("Giao cho"), coerce=int, validate_choice=False)
    referral_id = SelectField(_l("Về chuyển gửi"), coerce=int, validate_choice=False)


class GoalForm(FlaskForm):
    goal = StringField(_l("Mục tiêu"), render_kw={"maxlength": 300, "autocomplete": "off"})
    target_on = LocalDateField(_l("Ngày dự kiến đạt"), validators=[Optional()])
    review_note = TextAreaField(_l("Ghi chú đánh giá"), render_kw={"maxlength": 1000, "rows": 2})


class TickForm(FlaskForm):
    """A button (CSRF only)."""
