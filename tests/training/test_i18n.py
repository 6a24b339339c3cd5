"""Every string of the training module has an English translation in its own catalog, and the
pages speak English when English is chosen."""

from __future__ import annotations

from pathlib import Path

from tests.auth.test_i18n import _catalog, _msgids

TRAINING = Path(__file__).resolve().parents[2] / "app" / "training"


def test_every_training_string_has_an_english_translation():
    sources = sorted(TRAINING.rglob("*.py")) + sorted(TRAINING.rglob("*.html"))
    translations = _catalog(TRAINING / "translations" / "en" / "LC_MESSAGES" / "messages.po")
    ids = _msgids(sources)
    assert "Cán bộ tại chức (theo kế hoạch)" in ids
    missing = sorted(m for m in ids if not translations.get(m))
    assert not missing, missing


def test_the_training_pages_in_english(world, client_for):
    client = client_for(world.users["caseworker"])
    client.post("/language", data={"lang": "en", "next": "/training/"})
    html = client.get("/training/new").text
    assert "Record a training session" in html and "Online" in html
