"""Every Vietnamese string of the audit module has an English translation in its own catalog."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

AUDIT = Path(__file__).resolve().parents[2] / "app" / "audit"
CALL = re.compile(r"""\b_l?\(\s*(?P<q>["'])(?P<id>.+?)(?P=q)""", re.S)


def test_every_audit_string_is_translated():
    ids = set()
    for path in [*AUDIT.glob("*.py"), *AUDIT.glob("templates/**/*.html")]:
        ids |= {m.group("id") for m in CALL.finditer(path.read_text())}
    assert len(ids) > 25
    with (AUDIT / "translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f, locale="en")
    missing = sorted(i for i in ids if not (catalog.get(i) and catalog.get(i).string))
    assert not missing, missing
