"""The disclosure-control layer on its own: the perturbation table, small counts, consistency,
rates, and the refusal of numbers that did not come out of it."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest

from app.reports import disclosure
from app.reports.disclosure import (
    KEY_SPACE,
    MAX_PERTURBATION,
    PTABLE,
    Figure,
    Kind,
    Tally,
    Unreleased,
    perturbation,
    protect,
    release,
)

K = 5


def test_ptable_is_the_two_sided_geometric_written_out():
    alpha = math.exp(-disclosure.EPSILON)
    assert PTABLE == tuple(int(alpha**m / (1 + alpha) * KEY_SPACE) for m in range(1, 11))


def test_perturbation_is_symmetric_bounded_and_mostly_small():
    rng = random.Random(11)
    seen = Counter(perturbation(rng.randrange(KEY_SPACE)) for _ in range(40_000))
    assert set(seen) <= set(range(-MAX_PERTURBATION, MAX_PERTURBATION + 1))
    assert 0.44 < seen[0] / 40_000 < 0.48  # P(0) = (1 - a) / (1 + a) = 0.462
    within_two = sum(n for e, n in seen.items() if abs(e) <= 2) / 40_000
    assert 0.91 < within_two < 0.94  # 0.927
    assert abs(seen[1] - seen[-1]) < 600 and abs(seen[2] - seen[-2]) < 400
    # The table's edges: the extreme keys get the extreme perturbations.
    assert perturbation(0) == -MAX_PERTURBATION and perturbation(KEY_SPACE - 1) == MAX_PERTURBATION
    assert perturbation(PTABLE[0]) == 0 and perturbation(PTABLE[0] - 1) == -1


def test_zero_is_zero_and_small_counts_are_never_printed_as_themselves():
    assert protect(Tally(0, 0), K).text == "0"
    rng = random.Random(5)
    for n in range(1, 40):
        for _ in range(200):
            figure = protect(Tally(n, rng.randrange(KEY_SPACE * 50)), K)
            if figure.suppressed:
                assert figure.text == "<5" and figure.value is None
            else:
                assert figure.value >= K and abs(figure.value - n) <= MAX_PERTURBATION
                assert figure.text == disclosure.number_text(figure.value)


def test_the_same_people_give_the_same_figure_and_others_usually_differ():
    a, b = Tally(7, 123_456_789), Tally(12, 987_654_321)
    assert protect(a + b, K) == protect(Tally(19, 123_456_789 + 987_654_321), K)
    assert protect(a, K) == protect(a, K)
    # Key sums work modulo 2**32, so a total over many people is as unpredictable as one.
    assert perturbation(KEY_SPACE + 5) == perturbation(5)


def test_rates_come_from_published_parts_and_are_capped():
    num, den = protect(Tally(40, 1), K), protect(Tally(50, 2), K)
    rate = disclosure.rate(num, den)
    assert rate.value == round(min(100.0, 100.0 * num.value / den.value), 1)
    middle = KEY_SPACE // 2  # perturbed by 0
    over = disclosure.rate(protect(Tally(50, middle), K), protect(Tally(50, PTABLE[0] - 1), K))
    assert over.value == 100.0  # 50 over a perturbed 49: never more than 100%
    small = protect(Tally(2, PTABLE[0]), K)
    assert disclosure.rate(small, den).text == "—"


def test_median_needs_enough_published_people():
    shown = protect(Tally(30, PTABLE[0]), K)
    assert disclosure.median(12.0, 30, shown, K).text == "12"
    assert disclosure.median(12.0, 3, shown, K).text == "—"
    assert disclosure.median(12.0, 30, protect(Tally(2, PTABLE[0]), K), K).text == "—"
    assert disclosure.median(12.0, 1, disclosure.exact(1), K).text == "12"  # caseworkers


def test_figures_are_made_only_by_the_layer():
    with pytest.raises(TypeError):
        Figure("3", 3, False, Kind.COUNT)


@pytest.mark.parametrize(
    "leak",
    [3, 2.5, Tally(3, 1), disclosure.exact(3), {"cells": [1]}, [protect(Tally(9, 1), K), 4]],
)
def test_release_refuses_numbers_the_layer_did_not_make(leak):
    with pytest.raises(Unreleased):
        release({"figures": leak})


def test_release_accepts_layer_figures_and_settings():
    body = {
        "k": 5,
        "rows": [protect(Tally(9, 1), K), disclosure.activity(12), disclosure.withheld()],
        "target": 80.0,
    }
    assert release(body) is body
