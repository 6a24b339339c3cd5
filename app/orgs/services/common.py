"""What every orgs service shares: the refusal it raises and how text is cleaned."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from app.permissions import Actor, PermissionDenied


class OrgError(Exception):
    """A rule refused the action. `message` is for the user; `field` names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(field or "org")  # never the message: it may quote what was typed
        self.message = str(message)
        self.field = field


def require(predicate: Callable[[Actor], bool], actor: Actor) -> None:
    if not predicate(actor):
        raise PermissionDenied


def clean_text(value: str | None) -> str:
    """NFC (files from some systems carry decomposed Vietnamese), spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", value or "").split())
