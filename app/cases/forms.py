"""Input shapes for the case pages. Identifying inputs carry autocomplete="off"."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from app.cases import consents as cons
from app.cases.models import (
    AttachmentKind,
    ClosedReason,
    ConsentMethod,
    NeedPriority,
    NeedStatus,
    ReachedVia,
)
from app.categories import CATEGORY_LABELS, SupportCategory
from app.web.forms import BirthDateField, QuickSelect, choices

OFF = {"autocomplete": "off", "autocapitalize": "words", "spellcheck": "false"}
OFF_PLAIN = {"autocomplete": "off", "spellcheck": "false"}

METHOD_CHOICES = [
    (ConsentMethod.VERBAL.value, _l("Bằng lời nói")),
    (ConsentMethod.WRITTEN.value, _l("Bằng văn bản (có chữ ký)")),
    (ConsentMethod.THUMBPRINT.value, _l("Điểm chỉ")),
]
GIVEN_BY_CHOICES = [("self", _l("Chính người được hỗ trợ")), ("guardian", _l("Người giám hộ"))]
REACHED_CHOICES = [
    (ReachedVia.OUTREACH.value, _l("Qua hoạt động tuyên truyền")),
    (ReachedVia.PEER.value, _l("Qua bạn bè, đồng đẳng")),
    (ReachedVia.SELF.value, _l("Tự tìm đến")),
    (ReachedVia.HEALTH_SERVICE.value, _l("Qua cơ sở y tế")),
    (ReachedVia.POLICE.value, _l("Qua công an")),
    (ReachedVia.OTHER.value, _l("Khác")),
]
PRIORITY_CHOICES = [
    ("", _l("Không có nhu cầu")),
    (NeedPriority.HIGH.value, _l("Cần gấp")),
    (NeedPriority.NORMAL.value, _l("Bình thường")),
    (NeedPriority.LOW.value, _l("Chưa gấp")),
]
STATUS_LABELS = {
    "open": _l("Mới mở"),
    "active": _l("Đang hỗ trợ"),
    "closed": _l("Đã kết thúc"),
}
NEED_STATUS_LABELS = {
    NeedStatus.OPEN.value: _l("Đang mở"),
    NeedStatus.MET.value: _l("Đã đáp ứng"),
    NeedStatus.DECLINED.value: _l("Người được hỗ trợ từ chối"),
    NeedStatus.NO_LONGER_NEEDED.value: _l("Không còn cần"),
}
CLOSED_REASON_LABELS = {
    ClosedReason.GOALS_MET.value: _l("Đã đạt mục tiêu hỗ trợ"),
    ClosedReason.MOVED_AWAY.value: _l("Đã chuyển đi nơi khác"),
    ClosedReason.WITHDREW.value: _l("Người được hỗ trợ không muốn tiếp tục"),
    ClosedReason.LOST_CONTACT.value: _l("Mất liên lạc"),
    ClosedReason.DECEASED.value: _l("Đã qua đời"),
    ClosedReason.OTHER.value: _l("Lý do khác"),
}
ERASURE_REASON_LABELS = {
    "her_request": _l("Theo yêu cầu của người được hỗ trợ"),
    "consent_withdrawn": _l("Đã rút lại sự đồng ý ghi nhận"),
    "recorded_in_error": _l("Ghi nhận nhầm"),
    "retention_ended": _l("Hết thời hạn lưu trữ"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def share_choices():
    return [(cons.share_purpose(c), str(CATEGORY_LABELS[c])) for c in SupportCategory]


class ConsentFields:
    """Mixed into the intake and the consent forms."""

    consent_record = BooleanField(
        _l("Đồng ý cho ghi nhận và lưu hồ sơ hỗ trợ (bắt buộc để lưu hồ sơ)")
    )
    consent_share = MultiCheckboxField(
        _l("Đồng ý chia sẻ với cơ sở cung cấp dịch vụ, theo từng loại hỗ trợ"),
        choices=choices(share_choices()),
        validate_choice=True,
    )
    consent_contact_phone = BooleanField(_l("Đồng ý được liên lạc qua điện thoại"))
    consent_share_hiv = BooleanField(_l("Đồng ý chia sẻ tình trạng HIV (đồng ý riêng)"))
    consent_share_health_details = BooleanField(_l("Đồng ý chia sẻ thông tin sức khỏe chi tiết"))
    consent_share_violence_details = BooleanField(
        _l("Đồng ý chia sẻ thông tin về bạo lực đã trải qua")
    )
    consent_share_identity = BooleanField(
        _l("Đồng ý để cơ sở dịch vụ nhận ra các lần chuyển gửi của cùng một người")
    )
    consent_method = RadioField(
        _l("Hình thức đồng ý"),
        choices=choices(METHOD_CHOICES),
        validators=[InputRequired(_l("Hãy chọn hình thức đồng ý."))],
    )
    given_by = SelectField(_l("Người đồng ý"), choices=choices(GIVEN_BY_CHOICES), default="self")
    guardian_relation = StringField(
        _l("Quan hệ của người giám hộ (nếu dưới 18 tuổi)"),
        validators=[Optional(), Length(max=60)],
        render_kw=OFF_PLAIN,
    )

    def consent_purposes(self) -> list[str]:
        purposes = []
        if self.consent_record.data:
            purposes.append(cons.RECORD)
        purposes.extend(self.consent_share.data or [])
        for flag, purpose in (
            (self.consent_contact_phone, cons.CONTACT_PHONE),
            (self.consent_share_hiv, cons.SHARE_HIV),
            (self.consent_share_health_details, cons.SHARE_HEALTH_DETAILS),
            (self.consent_share_violence_details, cons.SHARE_VIOLENCE_DETAILS),
            (self.consent_share_identity, cons.SHARE_IDENTITY),
        ):
            if flag.data:
                purposes.append(purpose)
        return purposes


class IdentityFields:
    full_name = StringField(
        _l("Họ và tên"),
        validators=[DataRequired(_l("Hãy nhập họ và tên.")), Length(max=120)],
        render_kw=OFF,
    )
    other_names = StringField(
        _l("Tên gọi khác"), validators=[Optional(), Length(max=200)], render_kw=OFF
    )
    preferred_name = StringField(
        _l("Tên muốn được gọi"), validators=[Optional(), Length(max=60)], render_kw=OFF
    )
    date_of_birth = BirthDateField(_l("Ngày sinh"), validators=[Optional(), Length(max=10)])
    phone = StringField(
        _l("Số điện thoại"),
        validators=[Optional(), Length(max=20)],
        render_kw=OFF_PLAIN | {"inputmode": "tel"},
    )
    address = TextAreaField(
        _l("Địa chỉ"), validators=[Optional(), Length(max=300)], render_kw=OFF_PLAIN | {"rows": 2}
    )
    id_number = StringField(
        _l("Số CCCD / giấy tờ tùy thân"),
        validators=[Optional(), Length(max=20)],
        render_kw=OFF_PLAIN,
    )
    health_details = TextAreaField(
        _l("Thông tin sức khỏe"),
        validators=[Optional(), Length(max=2000)],
        render_kw=OFF_PLAIN | {"rows": 3},
    )
    violence_details = TextAreaField(
        _l("Thông tin về bạo lực đã trải qua"),
        validators=[Optional(), Length(max=2000)],
        render_kw=OFF_PLAIN | {"rows": 3},
    )
    reached_via = SelectField(
        _l("Tiếp cận qua"), choices=choices(REACHED_CHOICES), default=ReachedVia.OUTREACH.value
    )


def need_field_name(category: str) -> str:
    return f"need_{category}"


class IntakeForm(ConsentFields, IdentityFields, FlaskForm):
    org_unit_id = SelectField(
        _l("Đơn vị (xã/phường)"), coerce=int, validators=[InputRequired(_l("Hãy chọn đơn vị."))]
    )
    assigned_to_id = SelectField(_l("Cán bộ phụ trách"), coerce=int, default=0)
    confirm_not_duplicate = BooleanField(
        _l("Tôi đã kiểm tra: đây không phải hồ sơ trùng, vẫn lưu hồ sơ mới")
    )

    def needs(self) -> list[tuple[str, str]]:
        chosen = []
        for category in SupportCategory:
            value = getattr(self, need_field_name(category)).data
            if value:
                chosen.append((category.value, value))
        return chosen

    def need_fields(self):
        return [getattr(self, need_field_name(c)) for c in SupportCategory]


for _category in SupportCategory:
    setattr(
        IntakeForm,
        need_field_name(_category),
        SelectField(
            CATEGORY_LABELS[_category],
            choices=choices(PRIORITY_CHOICES),
            default="",
            validators=[Optional()],
        ),
    )


class CorrectionForm(IdentityFields, FlaskForm):
    pass


class ConsentForm(ConsentFields, FlaskForm):
    pass


class NoteForm(FlaskForm):
    body = TextAreaField(
        _l("Ghi chú mới"),
        validators=[DataRequired(_l("Ghi chú đang trống.")), Length(max=5000)],
        render_kw=OFF_PLAIN | {"rows": 3},
    )
    is_sensitive = BooleanField(
        _l("Có thông tin sức khỏe, bạo lực hoặc mua bán người (ẩn với tình nguyện viên)")
    )


class NeedForm(FlaskForm):
    category = SelectField(
        _l("Nhu cầu hỗ trợ"),
        choices=choices([(c.value, CATEGORY_LABELS[c]) for c in SupportCategory]),
    )
    priority = SelectField(
        _l("Mức độ"), choices=choices(PRIORITY_CHOICES[1:]), default=NeedPriority.NORMAL.value
    )


class NeedStatusForm(FlaskForm):
    status = SelectField(_l("Trạng thái"), choices=choices(list(NEED_STATUS_LABELS.items())))


class StatusForm(FlaskForm):
    status = SelectField(_l("Trạng thái"), choices=choices(list(STATUS_LABELS.items())))
    closed_reason = SelectField(
        _l("Lý do kết thúc"),
        choices=choices([("", "—"), *CLOSED_REASON_LABELS.items()]),
        default="",
    )


class AssignForm(FlaskForm):
    assigned_to_id = SelectField(_l("Cán bộ phụ trách"), coerce=int, widget=QuickSelect())


class TransferForm(FlaskForm):
    org_unit_id = SelectField(_l("Chuyển đến đơn vị"), coerce=int, widget=QuickSelect())


class EmptyForm(FlaskForm):
    pass


class EraseForm(FlaskForm):
    confirm_code = StringField(
        _l("Nhập mã hồ sơ để xác nhận"),
        validators=[DataRequired(_l("Hãy nhập mã hồ sơ."))],
        render_kw=OFF_PLAIN,
    )
    reason = SelectField(
        _l("Lý do xoá"),
        choices=choices([("", "—"), *ERASURE_REASON_LABELS.items()]),
        validators=[DataRequired(_l("Hãy chọn lý do xoá."))],
    )


class WithdrawConsentForm(FlaskForm):
    reason = SelectField(
        _l("Lý do rút lại"),
        choices=choices([("", "—"), *cons.WITHDRAWAL_REASONS.items()]),
        validators=[DataRequired(_l("Hãy chọn lý do rút lại sự đồng ý."))],
    )
    confirm = BooleanField(
        _l("Tôi xác nhận người được hỗ trợ (hoặc người giám hộ) rút lại sự đồng ý này."),
        validators=[DataRequired(_l("Hãy đánh dấu xác nhận trước khi rút lại."))],
    )


ATTACHMENT_KIND_LABELS = {
    AttachmentKind.CONSENT_SCAN.value: _l("Bản chụp giấy đồng ý đã ký"),
    AttachmentKind.DOCUMENT.value: _l("Giấy tờ khác"),
}


class AttachmentForm(FlaskForm):
    kind = SelectField(_l("Loại tệp"), choices=choices(list(ATTACHMENT_KIND_LABELS.items())))
    file = FileField(
        _l("Tệp (PDF, JPEG hoặc PNG)"),
        validators=[FileRequired(_l("Hãy chọn tệp."))],
        render_kw={"accept": "application/pdf,image/jpeg,image/png"},
    )


class SearchForm(FlaskForm):
    q = StringField(
        _l("Mã hồ sơ, họ tên (một hay nhiều từ), số điện thoại hoặc số giấy tờ"),
        validators=[DataRequired(_l("Hãy nhập nội dung tìm.")), Length(max=120)],
        render_kw=OFF_PLAIN | {"type": "search"},
    )


class BreakGlassForm(FlaskForm):
    code = StringField(
        _l("Mã hồ sơ"),
        validators=[DataRequired(_l("Hãy nhập mã hồ sơ.")), Length(max=20)],
        render_kw=OFF_PLAIN,
    )
    reason = TextAreaField(
        _l("Lý do cần xem hồ sơ"),
        validators=[DataRequired(_l("Hãy nêu rõ lý do.")), Length(max=500)],
        render_kw=OFF_PLAIN | {"rows": 3},
    )


class ImportForm(FlaskForm):
    file = FileField(_l("Tệp .xlsx hoặc .csv theo mẫu"))
    org_unit_id = SelectField(_l("Đơn vị (xã/phường)"), coerce=int)


class TokenForm(FlaskForm):
    name = StringField(
        _l("Tên gợi nhớ"), validators=[DataRequired(_l("Hãy đặt tên.")), Length(max=80)]
    )
