"""Every sign-in string, and the app-level strings, have an English translation."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

from tests.conftest import sign_in

APP = Path(__file__).resolve().parents[2] / "app"
KEYWORDS = {"_": None, "_l": None, "gettext": None, "lazy_gettext": None}

AUTH_SOURCES = sorted((APP / "auth").rglob("*.py")) + sorted((APP / "auth").rglob("*.html"))
APP_SOURCES = [
    APP / "templates" / "base.html",
    APP / "templates" / "_form.html",
    APP / "templates" / "errors" / "error.html",
    APP / "web" / "errors.py",
    APP / "roles_text.py",
    APP / "categories.py",
    *sorted((APP / "home").rglob("*.py")),
    *sorted((APP / "home").rglob("*.html")),
]


def _msgids(paths) -> set[str]:
    found = set()
    for path in paths:
        method = "jinja2" if path.suffix == ".html" else "python"
        options = {"extensions": "jinja2.ext.i18n"} if method == "jinja2" else {}
        for _, message, _, _ in extract_from_file(method, str(path), KEYWORDS, options=options):
            found.add(message[0] if isinstance(message, tuple) else message)
    return found


def _catalog(path: Path) -> dict[str, str]:
    with path.open("rb") as f:
        return {m.id: m.string for m in read_po(f) if m.id}


@pytest.mark.parametrize(
    ("sources", "catalog"),
    [
        (AUTH_SOURCES, APP / "auth" / "translations" / "en" / "LC_MESSAGES" / "messages.po"),
        (APP_SOURCES, APP / "translations" / "en" / "LC_MESSAGES" / "messages.po"),
    ],
    ids=["auth", "app"],
)
def test_every_string_has_an_english_translation(sources, catalog):
    translations = _catalog(catalog)
    ids = _msgids(sources)
    assert len(ids) > 20
    missing = sorted(m for m in ids if not translations.get(m))
    assert not missing, missing


def test_pages_are_english_when_english_is_chosen(client, world):
    with client.session_transaction() as s:
        s["lang"] = "en"
    page = client.get("/auth/sign-in").get_data(as_text=True)
    assert "Sign in" in page and "Username" in page and "Đăng nhập" not in page
    refused = sign_in(client, "caseworker", "not the right password").get_data(as_text=True)
    assert "Wrong username or password." in refused
    client.post(
        "/auth/sign-in", data={"username": "caseworker", "password": "correct horse battery staple"}
    )
    home = client.get("/home").get_data(as_text=True)
    assert "Women&#39;s Union caseworker" in home and "Change password" in home
    assert "Two-step verification" in home
    problems = client.post(
        "/auth/password",
        data={
            "current_password": "correct horse battery staple",
            "new_password": "short",
            "confirm": "short",
        },
    ).get_data(as_text=True)
    assert "The password must have at least 12 characters." in problems
