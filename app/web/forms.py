"""Form pieces every module uses: select options, and dates typed the Vietnamese way."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms before 3.3 takes plain pairs

    def SelectChoice(value, label):  # noqa: N802
        return (value, label)


def choices(pairs) -> list:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class LocalDateField(DateField):
    """A date from <input type="date"> (YYYY-MM-DD) or typed the Vietnamese way (dd/mm/yyyy)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=["%Y-%m-%d", "%d/%m/%Y"], **kwargs)

    def process_formdata(self, valuelist):
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(_l("Ngày không hợp lệ; hãy nhập theo dạng dd/mm/yyyy.")) from None
