"""WTForms' own messages reach users in their language (issue #13, point 3)."""

from __future__ import annotations

from flask import session
from flask_babel import refresh
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField
from wtforms.validators import DataRequired, Length


class _Probe(FlaskForm):
    class Meta:
        csrf = False

    name = StringField(validators=[Length(max=120)])
    count = IntegerField()
    place = StringField(validators=[DataRequired()])


def _errors(app, lang: str) -> dict:
    with app.test_request_context(method="POST", data={"name": "x" * 121, "count": "nhiều"}):
        session["lang"] = lang
        refresh()  # the locale is cached on the shared app context
        try:
            form = _Probe()
            form.validate()
            return {k: [str(e) for e in v] for k, v in form.errors.items()}
        finally:
            refresh()


def test_wtforms_messages_are_vietnamese(app):
    errors = _errors(app, "vi")
    assert errors["name"] == ["Mục này không được dài quá 120 ký tự."]
    assert errors["count"] == ["Hãy nhập một số nguyên."]
    assert errors["place"] == ["Mục này là bắt buộc."]


def test_wtforms_messages_stay_english_in_english(app):
    errors = _errors(app, "en")
    assert errors["name"] == ["Field cannot be longer than 120 characters."]


def test_a_page_shows_the_vietnamese_message(client, world, login_as):
    login_as(world.users["caseworker"])
    response = client.post(
        "/partners/organizations/new", data={"name": "Cơ sở " + "x" * 300, "description": ""}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Mục này không được dài quá 200 ký tự." in html
    assert "Field cannot be longer" not in html
