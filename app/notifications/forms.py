"""The settings form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField, StringField, TimeField
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.notifications.models import Channel

CHANNEL_LABELS = {
    Channel.EMAIL: _l("E-mail"),
    Channel.SMS: _l("Tin nhắn SMS"),
    Channel.ZALO: _l("Zalo"),
}


class CheckboxesField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class SettingsForm(FlaskForm):
    email = StringField(
        _l("E-mail nhận thông báo"),
        validators=[Optional(), Length(max=254)],
        render_kw={"autocomplete": "off", "inputmode": "email"},
    )
    phone = StringField(
        _l("Số điện thoại nhận SMS / Zalo"),
        validators=[Optional(), Length(max=20)],
        render_kw={"autocomplete": "off", "inputmode": "tel"},
    )
    channels = CheckboxesField(_l("Gửi thông báo qua"), choices=[], validate_choice=True)
    kinds = CheckboxesField(_l("Những việc cần báo cho tôi"), choices=[], validate_choice=True)
    quiet_start = TimeField(_l("Giờ yên lặng: từ"), validators=[Optional()])
    quiet_end = TimeField(_l("đến"), validators=[Optional()])
    wants_digest = BooleanField(
        _l("Chỉ gửi một bản tóm tắt mỗi sáng lúc 7:30 (thay vì từng thông báo)")
    )


class ActionForm(FlaskForm):
    """A button (CSRF only)."""
