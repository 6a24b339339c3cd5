"""Integers from URLs and query strings, bounded before they reach the database.

Werkzeug's `int` converter and `request.args.get(..., type=int)` take any number of digits:
"/api/v1/referrals/45420550150" reached PostgreSQL's INTEGER column and failed there (500), and
"?page=99999999999999999999" overflowed SQLite's 64-bit OFFSET. Ids in paths are bounded by
the converter (out of range: no such route, 404); query-string integers by `int_arg`
(malformed or out of range: 400, in the JSON error body on /api/).
"""

from __future__ import annotations

import re

from flask import abort, request
from werkzeug.routing import IntegerConverter

# Primary keys are INTEGER columns: PostgreSQL's int4, the smaller of the two backends.
MAX_ID = 2**31 - 1
# Far beyond any real list (25 rows a page), far below what an OFFSET can hold.
MAX_PAGE = 100_000
_INTEGER = re.compile(r"[+-]?\d{1,19}")


class IdConverter(IntegerConverter):
    """The app's `int` converter: 0 to MAX_ID, so an out-of-range id is a 404 like any other."""

    def __init__(self, map, fixed_digits=0, min=0, max=MAX_ID, signed=False):  # noqa: A002
        super().__init__(map, fixed_digits=fixed_digits, min=min, max=max, signed=signed)


def int_arg(name: str, default: int | None = None, *, low: int = 1, high: int = MAX_ID):
    """The query-string integer `name` in [low, high], `default` when absent; else 400."""
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not _INTEGER.fullmatch(raw):
        abort(400)
    value = int(raw)
    if not low <= value <= high:
        abort(400)
    return value


def page_arg() -> int:
    return int_arg("page", 1, high=MAX_PAGE)
