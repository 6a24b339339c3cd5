"""QuickSelect writes the same HTML as WTForms' own select, option for option."""

from __future__ import annotations

import pytest
from flask_wtf import FlaskForm
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from app.web.forms import QuickSelect

CHOICES = [
    SelectChoice(1, "Xã Ninh Hải"),
    SelectChoice(2, 'Phường "Trung tâm" & <Bắc>'),
    SelectChoice(3, ""),
    SelectChoice(True, "Có"),
]


@pytest.mark.parametrize("chosen", [None, 2, 3])
def test_the_same_html_as_wtforms(app, chosen):
    class Quick(FlaskForm):
        unit = SelectField("Đơn vị", coerce=str, choices=CHOICES, widget=QuickSelect())

    class Plain(FlaskForm):
        unit = SelectField("Đơn vị", coerce=str, choices=CHOICES, widget=Select())

    with app.test_request_context():
        quick, plain = Quick(meta={"csrf": False}), Plain(meta={"csrf": False})
        quick.unit.data = plain.unit.data = None if chosen is None else str(chosen)
        assert str(quick.unit(class_="wide")) == str(plain.unit(class_="wide"))
        assert "&amp; &lt;Bắc&gt;" in str(quick.unit())
