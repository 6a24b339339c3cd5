"""Admin forms for org units and users. Choices are filled by the views from scoped queries."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from app.orgs.models import OrgLevel
from app.roles_text import ROLE_LABELS
from app.web.forms import choices

NO_PARENT = ""


LEVEL_LABELS = {
    OrgLevel.CENTRAL: _l("Trung ương"),
    OrgLevel.PROVINCE: _l("Tỉnh/thành phố"),
    OrgLevel.DISTRICT: _l("Huyện"),
    OrgLevel.COMMUNE: _l("Xã"),
    OrgLevel.WARD: _l("Phường"),
}


def level_choices() -> list:
    return choices((level.value, label) for level, label in LEVEL_LABELS.items())


def role_choices() -> list:
    return choices((role.value, label) for role, label in ROLE_LABELS.items())


class OrgUnitForm(FlaskForm):
    code = StringField(
        _l("Mã đơn vị (mã thống kê)"),
        validators=[DataRequired(_l("Hãy nhập mã đơn vị.")), Length(max=20)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    name = StringField(
        _l("Tên đơn vị"),
        validators=[DataRequired(_l("Hãy nhập tên đơn vị.")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    level = SelectField(
        _l("Cấp"), choices=level_choices, validators=[InputRequired(_l("Hãy chọn cấp."))]
    )
    parent = SelectField(_l("Trực thuộc"), choices=[], validate_choice=True)


class RenameForm(FlaskForm):
    name = StringField(
        _l("Tên mới"),
        validators=[DataRequired(_l("Hãy nhập tên đơn vị.")), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )


class MoveForm(FlaskForm):
    parent = SelectField(
        _l("Chuyển về trực thuộc"),
        choices=[],
        validators=[InputRequired(_l("Hãy chọn đơn vị cấp trên."))],
    )


class RetireForm(FlaskForm):
    confirm = BooleanField(
        _l("Tôi xác nhận cho đơn vị này ngừng hoạt động (vẫn được giữ lại để tra cứu)."),
        validators=[DataRequired(_l("Hãy đánh dấu xác nhận."))],
    )


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    role = SelectField(_l("Vai trò"), choices=[], validators=[Optional()])
    org_unit = SelectField(_l("Đơn vị (gồm cấp dưới)"), choices=[], validators=[Optional()])


class _UserFields(FlaskForm):
    display_name = StringField(
        _l("Tên hiển thị"),
        validators=[Length(max=120)],
        render_kw={"autocomplete": "off"},
    )
    role = SelectField(
        _l("Vai trò"), choices=[], validators=[InputRequired(_l("Hãy chọn vai trò."))]
    )
    org_unit = SelectField(
        _l("Đơn vị công tác"), choices=[], validators=[InputRequired(_l("Hãy chọn đơn vị."))]
    )


class _NewPasswordFields(FlaskForm):
    password = PasswordField(
        _l("Mật khẩu tạm thời"),
        validators=[DataRequired(_l("Hãy nhập mật khẩu tạm thời.")), Length(max=256)],
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        _l("Nhập lại mật khẩu"),
        validators=[EqualTo("password", _l("Hai mật khẩu không khớp nhau."))],
        render_kw={"autocomplete": "new-password"},
    )


class UserCreateForm(_UserFields, _NewPasswordFields):
    username = StringField(
        _l("Tên đăng nhập"),
        validators=[DataRequired(_l("Hãy nhập tên đăng nhập cho tài khoản.")), Length(max=64)],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )


class UserEditForm(_UserFields):
    pass


class PasswordResetForm(_NewPasswordFields):
    pass


class ConfirmForm(FlaskForm):
    """A bare POST form (CSRF only) for disable / re-enable buttons."""
