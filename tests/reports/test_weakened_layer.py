"""The weakened layer (the per-table suppression used before app.reports.disclosure) held
table by table: no suppressed cell of one table can be solved back from that table alone. It
fell only to a reader who links tables (test_disclosure_attack.py): the reason for the layer."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from tests.reports.weakened_layer import WITHHELD, protect, rate_text

K = 5


def published_bounds(shown: list[list[str]], k: int):
    """What a reader of the report knows of each cell, from the printed text alone."""
    cells = {}
    for i, row in enumerate(shown):
        for j, text in enumerate(row):
            if text == f"<{k}":
                cells[(i, j)] = (1.0, float(k - 1))
            elif text == WITHHELD:
                cells[(i, j)] = (0.0, math.inf)
            else:
                cells[(i, j)] = (float(int(text)), float(int(text)))
    return cells


def feasible_ranges(shown: list[list[str]], k: int) -> dict:
    """Least and greatest value of each hidden cell given the totals' equations (an LP each)."""
    bounds = published_bounds(shown, k)
    rows, cols = len(shown), len(shown[0])
    hidden = [c for c, (lo, hi) in bounds.items() if lo != hi]
    index = {c: n for n, c in enumerate(hidden)}
    a_eq, b_eq = [], []
    lines = [[(i, j) for j in range(cols)] for i in range(rows)]
    lines += [[(i, j) for i in range(rows)] for j in range(cols)]
    for line in lines:
        *parts, total = line  # the last cell of each row and column is its total
        coeffs, rhs = [0.0] * len(hidden), 0.0
        for c, sign in [(p, 1.0) for p in parts] + [(total, -1.0)]:
            if c in index:
                coeffs[index[c]] += sign
            else:
                rhs -= sign * bounds[c][0]
        if any(coeffs):
            a_eq.append(coeffs)
            b_eq.append(rhs)
        else:
            assert abs(rhs) < 1e-9, "published figures must add up"
    lp_bounds = [(bounds[c][0], None if bounds[c][1] == math.inf else bounds[c][1]) for c in hidden]
    out = {}
    for c in hidden:
        ends = []
        for sign in (1.0, -1.0):
            objective = [0.0] * len(hidden)
            objective[index[c]] = sign
            res = linprog(
                objective, A_eq=a_eq or None, b_eq=b_eq or None, bounds=lp_bounds, method="highs"
            )
            assert res.status in (0, 3), res.message
            ends.append(math.inf if res.status == 3 else sign * res.fun)
        out[c] = tuple(ends)
    return out


tables = st.integers(min_value=1, max_value=4).flatmap(
    lambda rows: st.integers(min_value=1, max_value=4).flatmap(
        lambda cols: st.lists(
            st.lists(
                st.one_of(st.integers(0, 6), st.integers(0, 40)), min_size=cols, max_size=cols
            ),
            min_size=rows,
            max_size=rows,
        )
    )
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables)
def test_no_suppressed_cell_can_be_solved(table):
    p = protect(table, K)
    shown = [[p.display(i, j) for j in range(p.cols)] for i in range(p.rows)]
    # Every count from 1 to k-1 is hidden, wherever it is (cells and totals).
    for i in range(p.rows):
        for j in range(p.cols):
            if 1 <= p.values[i][j] < K:
                assert shown[i][j] in (f"<{K}", WITHHELD)
    for cell, (low, high) in feasible_ranges(shown, K).items():
        assert low <= p.values[cell[0]][cell[1]] <= high
        assert high - low > 1, (table, shown, cell, low, high)


def test_lines_with_a_hidden_cell_have_two():
    p = protect([[2, 30, 40], [25, 35, 45], [50, 60, 70]], K)
    shown = [[p.display(i, j) for j in range(p.cols)] for i in range(p.rows)]
    assert shown[0][0] == "<5"
    for line in [shown[0], [row[0] for row in shown]]:
        assert sum(t in ("<5", WITHHELD) for t in line) >= 2
    # The smallest complements were chosen: 25 below and 30 beside the small cell.
    assert shown[1][0] == WITHHELD and shown[0][1] == WITHHELD
    assert shown[1][1] == WITHHELD  # and the cell closing the rectangle
    assert shown[3][3] == str(2 + 30 + 40 + 25 + 35 + 45 + 50 + 60 + 70)


def test_nothing_hidden_when_all_counts_are_large_or_zero():
    p = protect([[0, 12], [7, 0]], K)
    assert p.suppressed_cells == []


def test_row_total_below_k_is_hidden_with_its_cells():
    p = protect([[1, 1], [20, 30]], K)
    shown = [[p.display(i, j) for j in range(p.cols)] for i in range(p.rows)]
    assert shown[0] == ["<5", "<5", "<5"]


@pytest.mark.parametrize(
    ("num", "den", "text"), [(3, 10, "30.0%"), (None, 10, "—"), (3, None, "—"), (0, 0, "—")]
)
def test_rates_over_hidden_parts_are_dashes(num, den, text):
    assert rate_text(num, den) == text


def test_caseworker_tables_are_not_suppressed():
    assert protect([[1, 2]], 0).suppressed_cells == []
