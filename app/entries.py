"""What a service raises when a user's entry, or a file of entries, breaks a rule: one pair for
every module that takes entries (outreach activities, training sessions), so that routes and
the API answer them the same way."""

from __future__ import annotations


class InvalidEntry(Exception):
    """The entry breaks a rule; `errors` maps a field name to a message in the user's language."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(sorted(errors))
        self.errors = errors


class ImportRejected(Exception):
    """At least one row is wrong: nothing was imported. `errors` are (row, message) pairs."""

    def __init__(self, errors: list[tuple[int, str]]):
        super().__init__(len(errors))
        self.errors = errors
