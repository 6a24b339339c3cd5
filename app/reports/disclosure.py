"""The one disclosure-control layer: every figure that a supervisor, or any role that may not
open the cases, can see is made here and nowhere else.

What it must withstand (issue #11): a reader who collects every table she can open (every
period, window, org-unit level, category and export, again after each change) and solves the
identities that hold between them (row and column totals, year = first half + second half,
parent = sum of children, category totals) by linear programming. Per-table cell suppression
(this module's predecessor) fell to exactly that: of 723 hidden cells, 43 came back exactly.

The choice, and why
-------------------

1. Linked-table complementary suppression (tau-Argus, sdcTable; Hundepool et al., *Statistical
   Disclosure Control*, Wiley 2012, ch. 4; de Wolf and Giessing, "Adjusting the tau-Argus
   modular approach to deal with linked tables", Data & Knowledge Engineering 68, 2009). It is
   safe only when every table that can ever be requested is protected *jointly*: here that is
   8 units x 6 periods x 4 windows x every breakdown, re-solved after every change, while the
   tables already downloaded cannot be changed. It needs a solver at request time (1.26 s of
   the 1.5 s first dashboard) and one new case can force a cell that was published last week to
   be hidden this week, which publishes the difference. Rejected.

2. Differential privacy with a budget (Dwork and Roth, *The Algorithmic Foundations of
   Differential Privacy*, 2014; OpenDP). Fresh noise per query lets a reader average repeated
   queries away unless a budget refuses her after a few; a supervisor who must produce the same
   six-monthly report twice (and get the same numbers) cannot live with either. Rejected as a
   budget, kept as the shape of the noise (below).

3. The cell-key method (Fraser and Wooton, "A proposed method for confidentialising tabular
   output to protect against differencing", UNECE work session on SDC, 2005; Thompson,
   Broadfoot and Elazar, "Methodology for the automatic confidentialisation of statistical
   outputs from remote servers at the Australian Bureau of Statistics", UNECE 2013 - the ABS
   TableBuilder; ONS, "Protecting personal data in Census 2021 results", 2022, used for the
   flexible tables; Enderle, Giessing and Tent, "Designing confidentiality on the fly
   methodology - three aspects", PSD 2018; the `cellKey` package of sdcTools). **Chosen.**

How it works here
-----------------

- Every record that a figure counts (a case; a referral) has a fixed random *record key* of
  32 bits (`report_record_keys`, drawn once when a case is first counted, never changed, never
  shown; a referral's key is derived from its case's key and its id). The kept count tables
  (`report_*_counts`) carry the sum of their records' keys beside each count, so a cell's key
  costs nothing more than its count: the key sum is additive like the count.
- A cell's *cell key* is the sum of the record keys of the people it counts, modulo 2**32. The
  *perturbation table* `PTABLE` maps the cell key to a perturbation e in -10..+10: a two-sided
  geometric distribution (the "geometric mechanism" of Ghosh, Roughgarden and Sundararajan,
  SIAM J. Comput. 41, 2012; the discrete Laplace of differential privacy) with
  alpha = exp(-1): P(e = 0) = 46%, |e| <= 1: 80%, |e| <= 2: 93%, |e| <= 3: 97%, clipped at 10
  (beyond it: 2.4e-5). The published count is `true + e`.
- **The same set of people gives the same published value** in every table, period, level,
  window, export and request, whoever asks and however often: so a difference of two figures
  is the difference of two true counts plus noise, and asking again yields nothing new.
  Different sets get perturbations that the reader cannot predict (she does not know the keys).
- **Small counts are never published as themselves.** A cell with nobody in it is "0" (no key,
  no noise: zeros carry no person). A cell with somebody in it whose perturbed value is below k
  (`SUPPRESSION_K`, 5) is printed "<k" - never 0, never 1..k-1 - so a printed number is never
  a small true count, and the band says only "at least one person".
- Why no count 1..k-1 can be recovered exactly: an attacker who knows this method, the table
  and every identity between the true counts still sees each published value only up to a
  perturbation she cannot know. To pin a small cell exactly she needs several independent
  perturbations to sit at the extreme of the table (+-10) with the right signs at once: each
  happens for 1 cell key in 30,000 (`PTABLE`), so several together practically never. The
  widest she can be sure of is the width of the table: every published figure is consistent
  with any true value within +-10 of it. `tests/reports/test_disclosure_attack.py` runs the
  linear-programming attacker over random data and every output of this layer, and shows the
  same attacker pinning cells of the old per-table suppression.
- Totals are protected like any cell (their key is the sum of their parts' keys), so a total
  is close to, but not always equal to, the sum of its printed parts: that is the price of
  consistency under differencing, as in the Census 2021 tables and TableBuilder.
- Rates are computed from the published numerator and denominator (never from the true
  counts), capped at 100%, and shown only when both are printed as numbers (at least k). The
  error to expect on a rate r of n people: one standard deviation is 1.36 * sqrt(1 + r**2) / n
  (1.36: the table's standard deviation), so at r = 80%, 95% of the time within +-7 points for
  a commune of 50, +-3.5 for a district of 100, +-0.35 for a province of 1,000.
- Figures that are not about people in the case records are published as they are: outreach
  activities, communes with an activity and the people reached at events (head counts a
  volunteer wrote down, no person behind them), and the plans' own targets.
- So are the staff figures (`staff`): officers in post and officers trained (app.training).
  They count members of staff doing their job, whom a supervisor manages by name anyway; no
  woman in the case records is in them, and nothing about a case can be derived from them.
  They still go through this layer so that the renderers' check (`release`) holds for every
  number on a page, and so that a figure cannot be shown without saying what kind it is.
- The median days to service is shown only when the published number of people connected is
  a number (at least k) and at least k services were received: a median of fewer people is
  one person's waiting time.
- What this does not claim: differential privacy over everything a supervisor sees. A person
  sits in a bounded number of distinct cells (her unit at each level, each period, window and
  category she has a need in), each an epsilon = 1 geometric mechanism; repeated requests add
  nothing (same cell, same value), a change of her case opens new cells. The guarantee tested
  is the one the issue asks: no small count exactly, nothing narrower than the table's width.

How other code uses it
----------------------

Reporting code builds `Tally` values (true count + key sum) from the count tables and turns them
into `Figure`s with `protect(tally, k)` (roles that may not open cases) or `exact(tally)`
(caseworkers, who may open the cases anyway); a `Figure` cannot be made anywhere else.
Renderers (pages, Excel, CSV, JSON) call `release(obj)` on what they are about to show a
protected role: it refuses any number that did not come out of this module (a raw `int`, a
`Tally`, an unprotected `Figure`). The official report (app.reports.official*) takes its
figures from `app.reports.layout.upward_report`, made of these figures.
"""

from __future__ import annotations

import dataclasses
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum, StrEnum

KEY_BITS = 32
KEY_SPACE = 1 << KEY_BITS
EPSILON = 1.0  # alpha = exp(-EPSILON) of the two-sided geometric perturbation
MAX_PERTURBATION = 10

# The perturbation table: PTABLE[m - 1] = floor(alpha**m / (1 + alpha) * 2**32) for m = 1..10,
# alpha = exp(-1). A cell key below PTABLE[m - 1] is perturbed by -m (the largest such m); a
# cell key at or above 2**32 - PTABLE[m - 1] by +m; any other key by 0. Written out, not
# computed, so every server of every deployment perturbs identically.
PTABLE = (
    1155094609,
    424935559,
    156325056,
    57508774,
    21156295,
    7782966,
    2863193,
    1053309,
    387491,
    142549,
)

# The worst case a reader can be certain of: no published count is further from the truth.
WIDTH = MAX_PERTURBATION
NOTE = "Số liệu nhỏ đã được bảo vệ để không thể nhận ra ai"


# ------------------------------------------------------------------------------ record keys


def new_record_key() -> int:
    """A case's record key: random, fixed for the life of the case, never shown."""
    return secrets.randbits(KEY_BITS)


def derived_key(case_key: int, kind: str, obj_id: int) -> int:
    """The record key of something the case owns (a referral): as unpredictable as the case's
    key without it, and fixed for the life of the object."""
    digest = hashlib.blake2b(f"{case_key}:{kind}:{obj_id}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big")


@dataclass(frozen=True, slots=True)
class Tally:
    """A true count and the sum of its records' keys. Additive; never shown to anybody."""

    n: int = 0
    keys: int = 0

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.n + other.n, self.keys + other.keys)

    def __radd__(self, other):  # sum() starts from 0
        if other == 0:
            return self
        return NotImplemented


def total(tallies: Iterable[Tally]) -> Tally:
    out = Tally()
    for t in tallies:
        out = out + t
    return out


# ------------------------------------------------------------------------------ figures

_SEAL = object()


class Kind(StrEnum):
    COUNT = "count"  # a count of people or referrals, perturbed
    RATE = "rate"  # a percentage of two published figures
    MEDIAN = "median"  # days, from a published count of at least k
    ACTIVITY = "activity"  # outreach activities and head counts: not about persons on record
    STAFF = "staff"  # officers in post and trained, and their rate: members of staff at work
    SETTING = "setting"  # a plan's target: what was signed, not data
    EXACT = "exact"  # a true figure, for roles that may open the cases


@dataclass(frozen=True, slots=True)
class Figure:
    """What a report prints, and the number behind it when that number is published.

    Made only by this module (the constructor refuses anyone else)."""

    text: str
    value: int | float | None
    suppressed: bool
    kind: Kind
    _seal: object = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self._seal is not _SEAL:
            raise TypeError("figures are made by app.reports.disclosure only")

    @property
    def protected(self) -> bool:
        return self.kind is not Kind.EXACT


def _figure(text: str, value, kind: Kind, suppressed: bool = False) -> Figure:
    return Figure(text, value, suppressed, kind, _SEAL)


def perturbation(cell_key: int) -> int:
    """The perturbation of a cell with this key (0 <= key < 2**32), from `PTABLE`."""
    key = cell_key % KEY_SPACE
    for m in range(MAX_PERTURBATION, 0, -1):
        threshold = PTABLE[m - 1]
        if key < threshold:
            return -m
        if key >= KEY_SPACE - threshold:
            return m
    return 0


def number_text(value: float) -> str:
    return f"{value:,.0f}".replace(",", ".")


def protect(tally: Tally, k: int) -> Figure:
    """THE entry point: a count of people (or referrals) as a protected role may see it."""
    if tally.n < 0:
        raise ValueError("counts cannot be negative")
    if tally.n == 0:
        return _figure("0", 0, Kind.COUNT)
    published = tally.n + perturbation(tally.keys)
    if published < k:
        return _figure(f"<{k}", None, Kind.COUNT, suppressed=True)
    return _figure(number_text(published), published, Kind.COUNT)


def exact(tally: Tally | int) -> Figure:
    """A true count, for a role that may open the cases it counts (caseworkers)."""
    n = tally.n if isinstance(tally, Tally) else int(tally)
    return _figure(number_text(n), n, Kind.EXACT)


def count(tally: Tally, *, protected: bool, k: int) -> Figure:
    return protect(tally, k) if protected else exact(tally)


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}%"


def withheld(text: str = "—") -> Figure:
    """A figure not published (a rate over a part shown "<k", a median of too few, a figure
    the system does not record)."""
    return _figure(text, None, Kind.RATE)


def rate(numerator: Figure, denominator: Figure) -> Figure:
    """A percentage of two published figures; "—" when either is not a printed number. Made of
    published figures only, so it tells nothing they do not; capped at 100% (a perturbed
    numerator may exceed its perturbed denominator)."""
    kind = Kind.EXACT if Kind.EXACT in (numerator.kind, denominator.kind) else Kind.RATE
    if numerator.value is None or denominator.value is None or not denominator.value:
        return _figure("—", None, kind)
    value = round(min(100.0, 100.0 * numerator.value / denominator.value), 1)
    return _figure(pct(value), value, kind)


def share(part: Figure, whole: float) -> Figure:
    """A published percentage as a share of a plan's target (achievement)."""
    if part.value is None or not whole:
        return _figure("—", None, part.kind)
    value = round(100.0 * part.value / whole, 1)
    return _figure(pct(value), value, part.kind)


def median(days: float | None, served: int, connected: Figure, k: int) -> Figure:
    """The median days to service of a row, shown only over enough people (module docstring)."""
    if days is None:
        return withheld()
    if connected.protected and (connected.value is None or connected.value < k or served < k):
        return withheld()
    kind = Kind.EXACT if not connected.protected else Kind.MEDIAN
    return _figure(f"{days:.0f}", round(days, 1), kind)


def activity(value: int | float, text: str | None = None) -> Figure:
    """An outreach figure (activities, communes with one, people reached at events)."""
    return _figure(text if text is not None else number_text(value), value, Kind.ACTIVITY)


def staff(value: int | float, text: str | None = None) -> Figure:
    """A staff figure (officers in post, officers trained, or a percentage of the two): not
    about anyone in the case records, published as it is (module docstring)."""
    if value < 0:
        raise ValueError("staff figures cannot be negative")
    return _figure(text if text is not None else number_text(value), value, Kind.STAFF)


def setting(value: float, text: str) -> Figure:
    """A plan's target, as signed."""
    return _figure(text, value, Kind.SETTING)


# ------------------------------------------------------------------------------ release


class Unreleased(TypeError):
    """A renderer was handed a number for a protected role that this layer did not make."""


# Numbers that are not figures: the report's own settings and shape.
NOT_FIGURES = frozenset(
    {
        "k",
        "suppression_k",
        "year",
        "years",
        "connected_target",
        "answer_days",
        "target",
        "days",
        "plan_id",
        "width",
    }
)


def _is_model(obj) -> bool:
    return hasattr(obj, "_sa_instance_state")


def unreleased(obj, path: str = "", seen: set[int] | None = None) -> list[str]:
    """The places in `obj` (a report, a template context, JSON) holding a number that a
    protected role must not get: a raw number, a Tally, or a figure of the exact kind."""
    seen = set() if seen is None else seen
    out: list[str] = []
    if obj is None or isinstance(obj, str | bytes | date | datetime | Enum):
        return out
    if isinstance(obj, Figure):
        if not obj.protected:
            out.append(f"{path}: exact figure {obj.text!r}")
        return out
    if isinstance(obj, Tally):
        return [f"{path}: tally"]
    if isinstance(obj, bool):
        return out
    if isinstance(obj, int | float | Decimal):
        return [f"{path}: {obj!r}"]
    if id(obj) in seen or _is_model(obj) or callable(obj):
        return out
    seen.add(id(obj))
    if dataclasses.is_dataclass(obj):
        items = [(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)]
    elif isinstance(obj, dict):
        items = [(str(key), value) for key, value in obj.items()]
    elif isinstance(obj, list | tuple | set | frozenset):
        items = [(str(n), value) for n, value in enumerate(obj)]
    else:
        return out
    for name, value in items:
        if name in NOT_FIGURES:
            continue
        out.extend(unreleased(value, f"{path}.{name}" if path else name, seen))
    return out


def release(obj):
    """`obj`, once checked to hold only figures of this layer; raises `Unreleased` otherwise.
    Every renderer calls it before showing a protected role anything."""
    problems = unreleased(obj)
    if problems:
        raise Unreleased("; ".join(problems[:5]))
    return obj
