"""The request's catalogue is found once and reused (app/translations_cache.py), yet every
change of language still shows: another request, `force_locale`, Flask-Babel's refresh()."""

from __future__ import annotations

from flask import render_template_string, session
from flask_babel import force_locale, gettext, lazy_gettext, refresh

from app.extensions import babel


def test_one_lookup_per_request_in_python_and_templates(app, monkeypatch):
    domain = babel.domain_instance
    calls = []
    real = type(domain).__mro__[1].get_translations  # Flask-Babel's own lookup

    def counting(self):
        calls.append(1)
        return real(self)

    monkeypatch.setattr(type(domain).__mro__[1], "get_translations", counting)
    with app.test_request_context():
        refresh()
        session["lang"] = "en"
        for _ in range(50):
            assert gettext("Hồ sơ hỗ trợ") == "Support cases"
        assert str(lazy_gettext("Hồ sơ hỗ trợ")) == "Support cases"
        page = render_template_string("{% for i in range(50) %}{{ _('Hồ sơ hỗ trợ') }}{% endfor %}")
        assert page == "Support cases" * 50
        refresh()
    assert len(calls) == 1


def test_force_locale_and_refresh_still_switch(app):
    with app.test_request_context():
        refresh()
        session["lang"] = "en"
        assert gettext("Hồ sơ hỗ trợ") == "Support cases"
        with force_locale("vi"):
            assert gettext("Hồ sơ hỗ trợ") == "Hồ sơ hỗ trợ"
            assert render_template_string("{{ _('Hồ sơ hỗ trợ') }}") == "Hồ sơ hỗ trợ"
        assert gettext("Hồ sơ hỗ trợ") == "Support cases"
        session["lang"] = "vi"
        refresh()
        assert gettext("Hồ sơ hỗ trợ") == "Hồ sơ hỗ trợ"
        refresh()


def test_each_request_speaks_its_own_language(client, fresh_g_per_request):
    with client.session_transaction() as s:
        s["lang"] = "en"
    assert "Sign in" in client.get("/auth/sign-in").get_data(as_text=True)
    with client.session_transaction() as s:
        s["lang"] = "vi"
    assert "Đăng nhập" in client.get("/auth/sign-in").get_data(as_text=True)
