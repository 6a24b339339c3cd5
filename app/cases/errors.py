"""The error a case rule raises: a translatable sentence that never quotes a value."""

from __future__ import annotations


class CaseError(Exception):
    """A rule refused the action; `message` is a translatable sentence without any value."""

    def __init__(self, message, field_name: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field_name = field_name
