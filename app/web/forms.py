"""Form pieces every module uses: select options, and dates typed the Vietnamese way."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from markupsafe import Markup, escape
from wtforms import DateField, StringField
from wtforms.utils import unset_value
from wtforms.widgets import Select, html_params

try:
    from wtforms.fields.choices import SelectChoice
except ImportError:  # WTForms before 3.3 takes plain pairs

    def SelectChoice(value, label):  # noqa: N802
        return (value, label)


# WTForms ships no Vietnamese: its messages ("This field is required.", "Field cannot be longer
# than 120 characters.") come from our own catalog, app/translations/vi/LC_MESSAGES/wtforms.po.
_CATALOGS = Path(__file__).resolve().parents[1] / "translations"


@cache
def _wtforms_catalog(locale: str) -> NullTranslations:
    return Translations.load(str(_CATALOGS), [locale], domain="wtforms")


class _FormMessages:
    """WTForms' own messages in the user's language (English is WTForms' source language)."""

    def _catalog(self) -> NullTranslations:
        locale = str(get_locale()) if has_request_context() else "vi"
        return _wtforms_catalog(locale)

    def gettext(self, string: str) -> str:
        return self._catalog().gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._catalog().ngettext(singular, plural, n)


_MESSAGES = _FormMessages()


def init_app(app) -> None:
    """Every form of every module speaks the user's language, WTForms' messages included."""
    app.config.setdefault("WTF_I18N_ENABLED", True)
    FlaskForm.Meta.get_translations = lambda meta, form: _MESSAGES


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


_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_VN_DAY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_YEAR = re.compile(r"^\d{4}$")


class BirthDateWidget:
    """The app's one date style (the phone's own date picker), with a year box beside it for
    when only the year of birth is known."""

    def __call__(self, field, **kwargs):
        day, year = field.parts()
        kwargs.setdefault("id", field.id)
        kwargs.pop("inputmode", None)
        this_year = date.today().year
        picker = html_params(
            type="date", name=field.name, value=day, max=date.today().isoformat(), **kwargs
        )
        year_id = f"{field.id}_year"
        year_box = html_params(
            type="number",
            id=year_id,
            name=f"{field.name}_year",
            value=year,
            min=1900,
            max=this_year,
            inputmode="numeric",
            autocomplete="off",
        )
        hint = _l("hoặc chỉ năm sinh, nếu không biết ngày")
        # html_params escapes every value; the label text is escaped by Markup.format.
        return Markup('<input {}><label class="hint" for="{}">{}</label><input {}>').format(
            Markup(picker),  # noqa: S704 (escaped by html_params)
            year_id,
            hint,
            Markup(year_box),  # noqa: S704 (escaped by html_params)
        )


class BirthDateField(StringField):
    """A date of birth as the case services take it: "dd/mm/yyyy", or "yyyy" alone.

    The page sends the picker's ISO day (`name`) or the year (`name_year`); a typed dd/mm/yyyy
    (browsers without a picker, the API, tests) is taken as it is."""

    widget = BirthDateWidget()

    def process(self, formdata, data=unset_value, extra_filters=None):
        super().process(formdata, data, extra_filters)
        if not formdata:
            return
        day = (formdata.get(self.name) or "").strip()
        year = (formdata.get(f"{self.name}_year") or "").strip()
        if m := _ISO_DAY.match(day):
            self.data = f"{m.group(3)}/{m.group(2)}/{m.group(1)}"
        else:
            self.data = day or year

    def parts(self) -> tuple[str, str]:
        """(ISO day for the picker, year for the year box) from the field's text."""
        text = (self.data or "").strip()
        if m := _VN_DAY.match(text):
            return f"{m.group(3)}-{int(m.group(2)):02d}-{int(m.group(1)):02d}", ""
        if _ISO_DAY.match(text):
            return text, ""
        if _YEAR.match(text):
            return "", text
        return text, ""


class DeleteForm(FlaskForm):
    """CSRF only: deleting is one button."""


class XlsxImportForm(FlaskForm):
    """One Excel file to import (outreach activities, training sessions)."""

    file = FileField(_l("Tệp Excel (.xlsx)"), render_kw={"accept": ".xlsx"})


class QuickSelect(Select):
    """A select whose plain options are written directly, the same HTML as WTForms' own: a case
    page's transfer list has 160 units, and each option through html_params cost 0.1 ms."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        label = escape(choice.label or choice.value)
        selected = "selected " if choice.selected else ""
        # Both interpolated texts are escaped here; Markup.format would escape them again, slowly.
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')  # noqa: S704
