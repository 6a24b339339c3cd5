"""The weakened layer: the per-table suppression Cầu Nối used before app.reports.disclosure,
kept only for the tests, which show that the linear-programming attacker of
test_disclosure_attack.py recovers small counts from it (issue #11). Never imported by the app.

Disclosure control for supervisors' figures: pure functions over a table of counts.

A table is published with its row totals, column totals and grand total (the "extended" table).
Counts from 1 to k-1 are suppressed (shown "<k"); then complementary cells are suppressed so
that no suppressed value can be solved back from what is published:

1. every row and column of the extended table that has a suppressed cell gets at least two,
   adding the smallest non-zero published cell of that line, until stable;
2. an audit solves, for each suppressed cell, the smallest and largest value consistent with
   everything published (the equations of the totals, "<k" meaning 1..k-1, other suppressed
   cells at least 0) by linear programming; a cell whose range is narrower than 2 gets the
   smallest non-zero published cell of its row or column suppressed too, and the audit runs
   again until every suppressed cell is protected;
3. if a table cannot be protected that way (every non-zero cell is already suppressed), its
   suppressed cells are all shown as withheld, without the "<k" bound.

Rates are shown only when both their numerator and denominator are published.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

PRIMARY = "primary"
COMPLEMENTARY = "complementary"
MIN_WIDTH = 2  # a suppressed cell must have at least this range of feasible values
WITHHELD = "×"


@dataclass
class Protected:
    """An extended table (interior + totals) with the cells to withhold marked."""

    k: int
    values: list[list[int]]  # (m+1) x (n+1): last row and last column are the totals
    marks: list[list[str | None]] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return len(self.values)

    @property
    def cols(self) -> int:
        return len(self.values[0]) if self.values else 0

    def is_suppressed(self, i: int, j: int) -> bool:
        return self.marks[i][j] is not None

    def display(self, i: int, j: int) -> str:
        """What the report prints in cell (i, j): the number, "<k", or the withheld sign."""
        mark = self.marks[i][j]
        if mark == PRIMARY:
            return f"<{self.k}"
        if mark == COMPLEMENTARY:
            return WITHHELD
        return str(self.values[i][j])

    def published(self, i: int, j: int) -> int | None:
        return None if self.is_suppressed(i, j) else self.values[i][j]

    @property
    def suppressed_cells(self) -> list[tuple[int, int]]:
        return [(i, j) for i in range(self.rows) for j in range(self.cols) if self.marks[i][j]]


def extend(table: list[list[int]]) -> list[list[int]]:
    """The table with a total column appended to each row and a total row below."""
    if not table or not table[0]:
        return [[0]]
    width = len(table[0])
    rows = [[int(v) for v in row] + [sum(int(v) for v in row)] for row in table]
    totals = [sum(row[j] for row in rows) for j in range(width + 1)]
    return rows + [totals]


def protect(
    table: list[list[int]], k: int, forced_total_row: list[str | None] | None = None
) -> Protected:
    """Mark the cells of `table` (and its totals) to suppress; see the module docstring.

    `forced_total_row` carries the marks the same figures got where they are a row of the
    table one level up (a district's row in the province report is the total row of the
    district's own report): a figure withheld there stays withheld here.

    Pure, so the result is remembered: a dashboard shown again (or the report made from the
    same figures) does not solve the same linear programs again.
    """
    if any(v < 0 for row in table for v in row):
        raise ValueError("counts cannot be negative")
    key = (tuple(tuple(int(v) for v in row) for row in table), k, tuple(forced_total_row or ()))
    marks = _protected_marks(*key)
    values = extend(table)
    return Protected(k=k, values=values, marks=[list(row) for row in marks])


@lru_cache(maxsize=2048)
def _protected_marks(
    table: tuple[tuple[int, ...], ...], k: int, forced_total_row: tuple[str | None, ...]
) -> tuple[tuple[str | None, ...], ...]:
    result = _protect([list(row) for row in table], k, list(forced_total_row) or None)
    return tuple(tuple(row) for row in result.marks)


def _protect(
    table: list[list[int]], k: int, forced_total_row: list[str | None] | None
) -> Protected:
    values = extend(table)
    result = Protected(k=k, values=values, marks=[[None] * len(values[0]) for _ in values])
    if k <= 1:
        return result
    for i, row in enumerate(values):
        for j, v in enumerate(row):
            if 1 <= v < k:
                result.marks[i][j] = PRIMARY
    if forced_total_row:
        last = len(values) - 1
        for j, mark in enumerate(forced_total_row):
            if mark and result.marks[last][j] is None:
                result.marks[last][j] = COMPLEMENTARY
    if not result.suppressed_cells:
        return result
    while True:
        _two_per_line(result)
        # The first cell still too narrow, if any (the rest are checked again next round).
        weak = next((c for c in result.suppressed_cells if not _wide_enough(result, c)), None)
        if weak is None:
            return result
        if not _strengthen(result, weak):
            _withhold_all(result)
            return result


def _lines(p: Protected):
    for i in range(p.rows):
        yield [(i, j) for j in range(p.cols)]
    for j in range(p.cols):
        yield [(i, j) for i in range(p.rows)]


def _smallest_open(p: Protected, cells) -> tuple[int, int] | None:
    candidates = [c for c in cells if p.marks[c[0]][c[1]] is None and p.values[c[0]][c[1]] > 0]
    if not candidates:
        return None
    # Totals only when no inner cell will do: a withheld total is harder to keep consistent
    # with the other reports that publish the same figure.
    return min(
        candidates,
        key=lambda c: (c[0] == p.rows - 1 or c[1] == p.cols - 1, p.values[c[0]][c[1]], c),
    )


def _two_per_line(p: Protected) -> None:
    changed = True
    while changed:
        changed = False
        for line in _lines(p):
            hidden = [c for c in line if p.marks[c[0]][c[1]]]
            if len(hidden) == 1:
                extra = _smallest_open(p, line)
                if extra is not None:
                    p.marks[extra[0]][extra[1]] = COMPLEMENTARY
                    changed = True


def _strengthen(p: Protected, cell: tuple[int, int]) -> bool:
    i, j = cell
    row = [(i, c) for c in range(p.cols)]
    col = [(r, j) for r in range(p.rows)]
    extra = _smallest_open(p, row + col)
    if extra is None:
        # Nothing left around this cell: widen the search to the whole table.
        extra = _smallest_open(p, [(r, c) for r in range(p.rows) for c in range(p.cols)])
    if extra is None:
        return False
    p.marks[extra[0]][extra[1]] = COMPLEMENTARY
    return True


def _withhold_all(p: Protected) -> None:
    for i, j in p.suppressed_cells:
        p.marks[i][j] = COMPLEMENTARY


def bounds_from_display(p: Protected, i: int, j: int) -> tuple[float, float]:
    mark = p.marks[i][j]
    if mark == PRIMARY:
        return (1.0, float(p.k - 1))
    return (0.0, math.inf)


def feasible_range(p: Protected, cell: tuple[int, int]) -> tuple[float, float]:
    """The least and greatest value of a suppressed cell consistent with what is published."""
    from scipy.optimize import linprog

    unknown = p.suppressed_cells
    index = {c: n for n, c in enumerate(unknown)}
    a_eq, b_eq = [], []
    last_r, last_c = p.rows - 1, p.cols - 1
    # Each row: sum of its interior cells minus its total is 0; the same for each column.
    equations = [([(i, c) for c in range(last_c)], (i, last_c)) for i in range(p.rows)] + [
        ([(r, j) for r in range(last_r)], (last_r, j)) for j in range(p.cols)
    ]
    for parts, total in equations:
        coeffs = [0.0] * len(unknown)
        rhs = 0.0
        for c in parts:
            if c in index:
                coeffs[index[c]] += 1.0
            else:
                rhs -= p.values[c[0]][c[1]]
        if total in index:
            coeffs[index[total]] -= 1.0
        else:
            rhs += p.values[total[0]][total[1]]
        if any(coeffs):
            a_eq.append(coeffs)
            b_eq.append(rhs)
    bounds = [bounds_from_display(p, *c) for c in unknown]
    bounds = [(lo, None if hi == math.inf else hi) for lo, hi in bounds]
    objective = [0.0] * len(unknown)
    objective[index[cell]] = 1.0
    found = []
    for sign in (1.0, -1.0):
        res = linprog(
            [sign * v for v in objective],
            A_eq=a_eq or None,
            b_eq=b_eq or None,
            bounds=bounds,
            method="highs",
        )
        if res.status == 3:  # unbounded
            found.append(math.inf)
        elif res.status != 0:
            found.append(float(p.values[cell[0]][cell[1]]))
        else:
            found.append(sign * res.fun)
    return found[0], found[1]


def _wide_enough(p: Protected, cell: tuple[int, int]) -> bool:
    low, high = feasible_range(p, cell)
    return high - low >= MIN_WIDTH - 1e-6


def rate_text(numerator: int | None, denominator: int | None, digits: int = 1) -> str:
    """A percentage, or "—" when either part is withheld or the denominator is zero."""
    if numerator is None or denominator is None or denominator == 0:
        return "—"
    return f"{100 * numerator / denominator:.{digits}f}%"


def rate_value(numerator: int | None, denominator: int | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return 100.0 * numerator / denominator
