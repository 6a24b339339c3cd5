"""The audit viewer's filters: a GET form (no CSRF: it changes nothing)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import Length, Optional, ValidationError

from app.audit.action_labels import action_label
from app.audit.actions import ACTIONS, is_known_action
from app.audit.activity import KINDS, ActivityFilters, kind_label
from app.audit.queries import AuditFilters
from app.web.forms import LocalDateField


def action_choices() -> list[tuple[str, str]]:
    labelled = sorted(((a, action_label(a)) for a in ACTIONS), key=lambda c: c[1])
    return [("", _l("Tất cả")), *labelled]


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    username = StringField(
        _l("Tên đăng nhập"),
        validators=[Optional(), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    action = SelectField(_l("Hành động"), validators=[Optional()], validate_choice=False)
    object_ref = StringField(
        _l("Mã tham chiếu (ví dụ mã hồ sơ)"),
        validators=[Optional(), Length(max=80)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    org_unit = StringField(
        _l("Mã đơn vị (gồm cả cấp dưới)"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    since = LocalDateField(_l("Từ ngày"), validators=[Optional()])
    until = LocalDateField(_l("Đến ngày"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.action.choices = action_choices()

    def validate_action(self, field):
        if field.data and not is_known_action(field.data):
            raise ValidationError(_l("Hãy chọn một hành động trong danh sách."))

    def validate_until(self, field):
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError(_l("Ngày kết thúc phải sau ngày bắt đầu."))

    def filters(self) -> AuditFilters:
        return AuditFilters(
            username=_clean(self.username.data),
            action=_clean(self.action.data),
            object_ref=_clean(self.object_ref.data),
            org_unit_code=_clean(self.org_unit.data),
            since=self.since.data,
            until=self.until.data,
        )


def _clean(value) -> str | None:
    value = (value or "").strip()
    return value or None


class ActivityFilterForm(FlaskForm):
    """A supervisor's filters: no action and no object reference (no way to ask about a case)."""

    class Meta:
        csrf = False

    username = AuditFilterForm.username
    kind = SelectField(_l("Loại việc"), validators=[Optional()], validate_choice=False)
    org_unit = StringField(
        _l("Mã đơn vị của cán bộ (gồm cả cấp dưới)"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off", "spellcheck": "false"},
    )
    since = LocalDateField(_l("Từ ngày"), validators=[Optional()])
    until = LocalDateField(_l("Đến ngày"), validators=[Optional()])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = [("", _l("Tất cả"))] + [(k, kind_label(k)) for k in KINDS]

    def validate_kind(self, field):
        if field.data and field.data not in KINDS:
            raise ValidationError(_l("Hãy chọn một loại việc trong danh sách."))

    validate_until = AuditFilterForm.validate_until

    def filters(self) -> ActivityFilters:
        return ActivityFilters(
            username=_clean(self.username.data),
            kind=_clean(self.kind.data),
            org_unit_code=_clean(self.org_unit.data),
            since=self.since.data,
            until=self.until.data,
        )
