"""Input shapes of the directory and referral pages (Vietnamese messages)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    URL,
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)
from wtforms.widgets import CheckboxInput, ListWidget

from app.categories import category_choices
from app.referrals.hsds import LANGUAGE_NAMES
from app.referrals.status import (
    PRIORITIES,
    PRIORITY_LABELS,
    REASON_LABELS,
    ReasonCode,
)
from app.web.forms import choices

REQUIRED = _l("Vui lòng điền mục này.")


SERVICE_STATUSES = [
    ("active", _l("Đang hoạt động")),
    ("temporarily closed", _l("Tạm ngừng")),
    ("inactive", _l("Ngừng hoạt động")),
    ("defunct", _l("Đã giải thể")),
]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _optional_email():
    # A plain shape check: WTForms' Email() needs the email_validator package.
    return [
        Optional(),
        Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message=_l("Địa chỉ email không hợp lệ.")),
        Length(max=200),
    ]


class OrganizationForm(FlaskForm):
    name = StringField(_l("Tên cơ sở"), validators=[DataRequired(REQUIRED), Length(max=200)])
    alternate_name = StringField(_l("Tên gọi khác"), validators=[Optional(), Length(max=200)])
    description = TextAreaField(_l("Giới thiệu"), validators=[DataRequired(REQUIRED)])
    email = StringField(_l("Email"), validators=_optional_email())
    website = StringField(
        _l("Trang web"),
        validators=[
            Optional(),
            URL(message=_l("Địa chỉ trang web không hợp lệ.")),
            Length(max=300),
        ],
    )
    phone = StringField(_l("Điện thoại"), validators=[Optional(), Length(max=40)])
    org_unit_id = SelectField(
        _l("Đơn vị hành chính nơi đặt trụ sở"), coerce=int, validators=[Optional()]
    )


class LocationForm(FlaskForm):
    name = StringField(_l("Tên địa điểm"), validators=[DataRequired(REQUIRED), Length(max=200)])
    address_1 = StringField(_l("Địa chỉ"), validators=[DataRequired(REQUIRED), Length(max=300)])
    address_2 = StringField(_l("Địa chỉ (dòng 2)"), validators=[Optional(), Length(max=300)])
    city = StringField(
        _l("Huyện / thành phố"), validators=[DataRequired(REQUIRED), Length(max=120)]
    )
    state_province = StringField(_l("Tỉnh"), validators=[DataRequired(REQUIRED), Length(max=120)])
    postal_code = StringField(_l("Mã bưu chính"), validators=[Optional(), Length(max=20)])
    latitude = FloatField(_l("Vĩ độ"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField(_l("Kinh độ"), validators=[Optional(), NumberRange(-180, 180)])
    transportation = StringField(_l("Cách đi đến"), validators=[Optional(), Length(max=300)])
    description = TextAreaField(_l("Mô tả địa điểm"), validators=[Optional()])
    phone = StringField(_l("Điện thoại"), validators=[Optional(), Length(max=40)])


class ServiceForm(FlaskForm):
    name = StringField(_l("Tên dịch vụ"), validators=[DataRequired(REQUIRED), Length(max=200)])
    alternate_name = StringField(_l("Tên gọi khác"), validators=[Optional(), Length(max=200)])
    url = StringField(
        _l("Trang web của dịch vụ"),
        validators=[
            Optional(),
            URL(message=_l("Địa chỉ trang web không hợp lệ.")),
            Length(max=300),
        ],
    )
    email = StringField(_l("Email của dịch vụ"), validators=_optional_email())
    category = SelectField(
        _l("Nhóm hỗ trợ"), choices=choices(category_choices()), validators=[DataRequired(REQUIRED)]
    )
    status = SelectField(_l("Tình trạng"), choices=choices(SERVICE_STATUSES), default="active")
    description = TextAreaField(_l("Mô tả"), validators=[DataRequired(REQUIRED)])
    eligibility_description = TextAreaField(_l("Điều kiện được nhận"), validators=[Optional()])
    fees_description = TextAreaField(_l("Chi phí"), validators=[Optional()])
    application_process = TextAreaField(_l("Cách đăng ký"), validators=[Optional()])
    languages = MultiCheckboxField(
        _l("Ngôn ngữ"), choices=choices(LANGUAGE_NAMES.items()), default=["vi"]
    )
    areas = MultiCheckboxField(
        _l("Địa bàn phục vụ"),
        coerce=int,
        validators=[DataRequired(_l("Chọn ít nhất một địa bàn."))],
    )
    locations = MultiCheckboxField(_l("Nơi cung cấp dịch vụ"))
    phone = StringField(_l("Điện thoại của dịch vụ"), validators=[Optional(), Length(max=40)])
    contact_name = StringField(_l("Người liên hệ"), validators=[Optional(), Length(max=200)])
    contact_title = StringField(
        _l("Chức vụ người liên hệ"), validators=[Optional(), Length(max=200)]
    )
    contact_email = StringField(_l("Email người liên hệ"), validators=_optional_email())
    contact_phone = StringField(
        _l("Điện thoại người liên hệ"), validators=[Optional(), Length(max=40)]
    )
    is_accepting_referrals = BooleanField(_l("Đang nhận chuyển gửi"), default=True)
    response_days = IntegerField(
        _l("Thời gian trả lời dự kiến (ngày)"),
        default=5,
        validators=[InputRequired(REQUIRED), NumberRange(0, 365, _l("Từ 0 đến 365 ngày."))],
    )


class ImportForm(FlaskForm):
    file = FileField(
        _l("Tệp HSDS (.json, hoặc .zip gồm các tệp CSV)"),
        validators=[FileRequired(_l("Vui lòng chọn tệp."))],
    )


class ReferralForm(FlaskForm):
    service_id = SelectField(_l("Dịch vụ"), validators=[DataRequired(_l("Vui lòng chọn dịch vụ."))])
    fields = MultiCheckboxField(_l("Thông tin chia sẻ với cơ sở"))
    hiv_status = StringField(
        _l("Tình trạng HIV (chỉ khi có đồng ý riêng)"),
        validators=[Optional(), Length(max=200)],
        render_kw={"autocomplete": "off"},
    )
    priority = SelectField(
        _l("Mức ưu tiên"),
        choices=choices((p, PRIORITY_LABELS[p]) for p in PRIORITIES),
        default="routine",
    )
    partner_note = TextAreaField(
        _l("Ghi chú cho cơ sở"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"autocomplete": "off"},
    )
    internal_note = TextAreaField(
        _l("Ghi chú nội bộ (cơ sở không đọc được)"),
        validators=[Optional(), Length(max=2000)],
        render_kw={"autocomplete": "off"},
    )
    send_now = BooleanField(_l("Gửi ngay (nếu không, lưu bản nháp)"), default=True)


def reason_choices(codes) -> list:
    return choices([("", _l("— Chọn lý do —"))] + [(c.value, REASON_LABELS[c]) for c in codes])


OUTCOME_CHOICES = choices(
    [
        (ReasonCode.SERVICE_RECEIVED.value, REASON_LABELS[ReasonCode.SERVICE_RECEIVED]),
        (ReasonCode.ENROLLED.value, REASON_LABELS[ReasonCode.ENROLLED]),
    ]
)


class TransitionForm(FlaskForm):
    to = HiddenField(validators=[DataRequired()])
    reason_code = SelectField(_l("Lý do"), choices=[], validate_choice=False)
    outcome = SelectField(_l("Kết quả"), choices=OUTCOME_CHOICES, validate_choice=False)
    service_date = DateField(_l("Ngày nhận dịch vụ"), validators=[Optional()])
    verified_by = StringField(
        _l("Ai ở cơ sở đã xác nhận"), validators=[Optional(), Length(max=200)]
    )
    note = TextAreaField(
        _l("Ghi chú"), validators=[Optional(), Length(max=2000)], render_kw={"autocomplete": "off"}
    )
