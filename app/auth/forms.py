from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from app.auth.passwords import MAX_LENGTH


class SignInForm(FlaskForm):
    username = StringField(
        _l("Tên đăng nhập"),
        validators=[
            DataRequired(_l("Hãy nhập tên đăng nhập.")),
            Length(max=64, message=_l("Tên đăng nhập quá dài.")),
        ],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Mật khẩu"),
        validators=[
            DataRequired(_l("Hãy nhập mật khẩu.")),
            Length(max=MAX_LENGTH, message=_l("Mật khẩu quá dài.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Mật khẩu hiện tại"),
        validators=[
            DataRequired(_l("Hãy nhập mật khẩu hiện tại.")),
            Length(max=MAX_LENGTH, message=_l("Mật khẩu quá dài.")),
        ],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("Mật khẩu mới"),
        validators=[DataRequired(_l("Hãy nhập mật khẩu mới."))],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Nhập lại mật khẩu mới"),
        validators=[
            DataRequired(_l("Hãy nhập lại mật khẩu mới.")),
            EqualTo("new_password", _l("Hai lần nhập mật khẩu mới không khớp nhau.")),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class TotpCodeForm(FlaskForm):
    code = StringField(
        _l("Mã 6 chữ số"),
        validators=[DataRequired(_l("Hãy nhập mã.")), Length(max=40, message=_l("Mã quá dài."))],
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Mã xác thực hoặc mã khôi phục"),
        validators=[DataRequired(_l("Hãy nhập mã.")), Length(max=40, message=_l("Mã quá dài."))],
        render_kw={
            "autocomplete": "one-time-code",
            "autocapitalize": "none",
            "spellcheck": "false",
        },
    )
