"""Every audit action and object type has words for users, in Vietnamese and in English."""

from __future__ import annotations

from contextlib import contextmanager

from flask import session
from flask_babel import refresh

from app.audit.action_labels import OBJECT_TYPES, action_label, has_label, object_label
from app.audit.actions import ACTIONS


@contextmanager
def speaking(app, lang: str):
    with app.test_request_context():
        session["lang"] = lang
        refresh()  # the locale is cached on the (shared) app context
        try:
            yield
        finally:
            refresh()


def test_every_action_has_a_label():
    missing = sorted(a for a in ACTIONS if not has_label(a))
    assert not missing, f"add these to app/audit/action_labels.py: {missing}"


def test_labels_are_words_not_codes_in_both_languages(app):
    for lang in ("vi", "en"):
        with speaking(app, lang):
            for action in ACTIONS:
                label = action_label(action)
                assert label and label != action and "." not in label, (lang, action)
            for kind in OBJECT_TYPES:
                assert object_label(kind) not in ("", kind), (lang, kind)


def test_english_labels_are_translated(app):
    with speaking(app, "vi"):
        vi = {a: action_label(a) for a in ACTIONS}
        assert vi["case.viewed"] == "Xem hồ sơ"
    with speaking(app, "en"):
        same = sorted(a for a in ACTIONS if action_label(a) == vi[a])
        assert not same
        assert action_label("auth.sign_in") == "Signed in"
        assert action_label("referral.completed").startswith("Referral: ")


def test_unknown_codes_are_shown_as_they_are():
    assert action_label("someone.new_action") == "someone.new_action"
    assert action_label(None) == ""
