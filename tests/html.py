"""Checks on rendered HTML shared by the modules' route tests."""

from __future__ import annotations

import re

# A <script> element without a src attribute: inline code, which the CSP forbids.
_INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I)


def has_inline_script(html: str) -> bool:
    return _INLINE_SCRIPT.search(html) is not None
