"""Whom her data was shared with: a list other modules add to, so that the printout of her
data (her right of access) names every recipient without the cases module importing them.

The referrals module registers its source (the partner organizations that were sent a referral,
when, and which fields); the cases module only reads `disclosures_of(case)`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.cases.models import Case


@dataclass(frozen=True)
class Disclosure:
    recipient: str  # the organization's name
    shared_at: datetime
    what: list[str]  # labels of the fields shared, in the user's language
    purpose: str  # e.g. the support category, in the user's language
    stopped_at: datetime | None = None  # sharing withdrawn (consent withdrawn, restriction)


_sources: list[Callable[[Case], list[Disclosure]]] = []


def register_source(source: Callable[[Case], list[Disclosure]]) -> None:
    if source not in _sources:
        _sources.append(source)


def disclosures_of(case: Case) -> list[Disclosure]:
    """Every recipient of her data, oldest first."""
    found = [d for source in _sources for d in source(case)]
    return sorted(found, key=lambda d: d.shared_at)
