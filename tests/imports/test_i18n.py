"""Every Vietnamese string of the imports module has an English translation."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

MODULE = Path(__file__).resolve().parents[2] / "app" / "imports"
CALL = re.compile(r"""\b_l?\(\s*(?P<q>["'])(?P<id>.+?)(?P=q)""", re.S)


def test_every_imports_string_is_translated():
    ids = set()
    for path in [*MODULE.glob("*.py"), *MODULE.glob("templates/**/*.html")]:
        ids |= {m.group("id") for m in CALL.finditer(path.read_text())}
    assert len(ids) > 15
    with (MODULE / "translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="en")
    missing = sorted(i for i in ids if not (catalog.get(i) and catalog.get(i).string))
    assert not missing, missing
