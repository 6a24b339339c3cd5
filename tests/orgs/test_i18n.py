"""Every string of the orgs module, the central level's among them, has an English translation
in the module's own catalog."""

from __future__ import annotations

from pathlib import Path

from tests.auth.test_i18n import _catalog, _msgids

ORGS = Path(__file__).resolve().parents[2] / "app" / "orgs"


def test_every_orgs_string_has_an_english_translation():
    sources = sorted(ORGS.rglob("*.py")) + sorted(ORGS.rglob("*.html"))
    translations = _catalog(ORGS / "translations" / "en" / "LC_MESSAGES" / "messages.po")
    ids = _msgids(sources)
    assert "Trung ương" in ids and translations["Trung ương"] == "Central"
    missing = sorted(m for m in ids if not translations.get(m))
    assert not missing, missing
