"""Every string of the reports module, the disclosure note and its help text among them, has an
English translation in the module's own catalog."""

from __future__ import annotations

from pathlib import Path

from tests.auth.test_i18n import _catalog, _msgids

REPORTS = Path(__file__).resolve().parents[2] / "app" / "reports"


def test_every_reports_string_has_an_english_translation():
    sources = sorted(REPORTS.rglob("*.py")) + sorted(REPORTS.rglob("*.html"))
    translations = _catalog(REPORTS / "translations" / "en" / "LC_MESSAGES" / "messages.po")
    ids = _msgids(sources)
    assert "Số liệu nhỏ đã được bảo vệ để không thể nhận ra ai" in ids
    missing = sorted(m for m in ids if not translations.get(m))
    assert not missing, missing


def test_the_note_in_english(client, world, login_as):
    login_as(world.users["supervisor"])
    client.post("/language", data={"lang": "en", "next": "/reports/"})
    html = client.get("/reports/").get_data(as_text=True)
    assert "Small numbers are protected so that nobody can be recognised" in html
    assert "never more than 10" in html
