"""Form pieces every module uses: select options, and dates typed the Vietnamese way."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from babel.support import NullTranslations, Translations
from flask import has_request_context
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField

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
