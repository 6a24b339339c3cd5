"""The plan form (admins). Org unit choices are filled by the view from the admin's subtree."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from app.outreach.vocab import AUDIENCES
from app.reports.models import DEFAULT_ANSWER_DAYS, DEFAULT_CONNECTED_RATE_TARGET
from app.web.forms import LocalDateField

PERCENT = [NumberRange(min=0, max=100, message=_l("Chỉ tiêu phần trăm phải từ 0 đến 100."))]


DAY_MONTH = Regexp(
    r"^\s*\d{1,2}/\d{1,2}\s*$", message=_l("Hãy nhập ngày theo dạng ngày/tháng, ví dụ 15/12.")
)


def _real_day(form, field) -> None:
    if field.errors:  # not written as day/month: said once is enough
        return
    try:
        day_month(field.data)
    except ValueError:
        raise ValidationError(_l("Ngày này không có trong năm.")) from None


def day_month(text: str) -> tuple[int, int]:
    """'15/12' -> (12, 15), the (month, day) of app.reports.official_models.RuleDates."""
    day, month = (int(part) for part in text.strip().split("/"))
    date(2001, month, day)  # raises for 31/04 or 29/02 (a day missing three years in four)
    return month, day


def day_month_or(text: str | None, default: tuple[int, int]) -> tuple[int, int]:
    """A cut-off day as entered, or the default (Decree 09's) when left empty."""
    return day_month(text) if text and text.strip() else default


def day_month_text(month_day: tuple[int, int]) -> str:
    return f"{month_day[1]:02d}/{month_day[0]:02d}"


class PlanForm(FlaskForm):
    org_unit = SelectField(_l("Đơn vị ban hành kế hoạch"), choices=[], validate_choice=True)
    name = StringField(
        _l("Tên kế hoạch"),
        validators=[DataRequired(_l("Hãy nhập tên kế hoạch.")), Length(max=300)],
    )
    number = StringField(_l("Số hiệu văn bản"), validators=[Optional(), Length(max=60)])
    issuing_body = StringField(_l("Cơ quan ban hành"), validators=[Optional(), Length(max=200)])
    period_start = LocalDateField(
        _l("Thời gian thực hiện: từ ngày"),
        validators=[InputRequired(_l("Hãy nhập ngày bắt đầu."))],
    )
    period_end = LocalDateField(
        _l("đến ngày"), validators=[InputRequired(_l("Hãy nhập ngày kết thúc."))]
    )
    connected_rate = DecimalField(
        _l("Chỉ tiêu tỷ lệ được kết nối dịch vụ (%)"),
        default=DEFAULT_CONNECTED_RATE_TARGET,
        places=None,
        validators=[InputRequired(_l("Hãy nhập chỉ tiêu tỷ lệ được kết nối dịch vụ.")), *PERCENT],
    )
    communes_with_outreach = DecimalField(
        _l("Chỉ tiêu xã, phường có ít nhất một hoạt động tuyên truyền (%)"),
        places=None,
        validators=[Optional(), *PERCENT],
    )
    staff_trained = DecimalField(
        _l("Chỉ tiêu cán bộ được tập huấn (%)"), places=None, validators=[Optional(), *PERCENT]
    )
    referrals_answered = DecimalField(
        _l("Chỉ tiêu chuyển gửi được trả lời đúng hạn (%)"),
        places=None,
        validators=[Optional(), *PERCENT],
    )
    answer_days = IntegerField(
        _l("Trả lời trong vòng (ngày)"),
        default=DEFAULT_ANSWER_DAYS,
        validators=[
            Optional(),
            NumberRange(min=1, max=365, message=_l("Số ngày phải từ 1 đến 365.")),
        ],
    )
    # The official report's cut-off days (Decree 09/2019/NĐ-CP by default).
    report_start = StringField(
        _l("Ngày đầu kỳ báo cáo (ngày/tháng, của năm trước nếu từ tháng 7)"),
        default="15/12",
        validators=[Optional(), DAY_MONTH, _real_day],
    )
    six_monthly_end = StringField(
        _l("Ngày cuối kỳ báo cáo 6 tháng (ngày/tháng)"),
        default="14/06",
        validators=[Optional(), DAY_MONTH, _real_day],
    )
    annual_end = StringField(
        _l("Ngày cuối kỳ báo cáo năm (ngày/tháng)"),
        default="14/12",
        validators=[Optional(), DAY_MONTH, _real_day],
    )


REACHED_VALIDATORS = [
    Optional(),
    NumberRange(min=0, max=10_000_000, message=_l("Số người phải từ 0 trở lên.")),
]

# One "people reached" target per audience group, as fields reached_<audience>.
for _code, _label in AUDIENCES.items():
    setattr(
        PlanForm,
        f"reached_{_code}",
        IntegerField(
            _l("Chỉ tiêu số người được tuyên truyền: %(group)s", group=_label),
            validators=REACHED_VALIDATORS,
        ),
    )


def reached_fields(form: PlanForm) -> list:
    return [getattr(form, f"reached_{code}") for code in AUDIENCES]


def as_decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)
