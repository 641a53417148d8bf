"""The duplicate window: new, duplicate and stale sequence numbers, the wrap, and a run at once."""

from __future__ import annotations

import numpy as np

from sim.detector.sequence import SEQ_MODULUS, SEQ_WINDOW, SequenceWindow, is_ahead, steps_ahead


def admitted(seqs: list[int]) -> list[bool]:
    window = SequenceWindow()
    return [window.admit(s) for s in seqs]


def test_new_numbers_pass_and_repeats_do_not() -> None:
    assert admitted([5, 6, 6, 8, 7, 7, 5]) == [True, True, False, True, True, False, False]


def test_a_number_a_window_or_more_behind_is_a_stale_copy() -> None:
    ahead = SEQ_WINDOW + 10
    assert admitted([ahead, ahead - SEQ_WINDOW + 1, ahead - SEQ_WINDOW]) == [True, True, False]


def test_the_numbers_wrap() -> None:
    assert admitted([SEQ_MODULUS - 2, SEQ_MODULUS - 1, 0, 1, SEQ_MODULUS - 1]) == [True, True, True, True, False]


def test_a_restart_forgets_the_window() -> None:
    window = SequenceWindow()
    assert window.admit(40)
    window.restart()
    assert window.admit(40) and not window.admit(40)


def test_a_run_admitted_at_once_leaves_the_window_as_one_by_one() -> None:
    lead, run = 100, [101, 103, 104, 110]
    one_by_one, at_once = SequenceWindow(), SequenceWindow()
    for s in [90, 95, lead, *run]:
        one_by_one.admit(s)
    for s in [90, 95, lead]:
        at_once.admit(s)
    bits = sum(1 << (run[-1] - s) for s in run)
    at_once.admit_run(run[-1] - lead, bits, run[-1])
    assert (at_once.hi, at_once.mask) == (one_by_one.hi, one_by_one.mask)
    assert [at_once.admit(s) for s in (95, 102, 103)] == [False, True, False]


def test_the_array_arithmetic_agrees_with_admit() -> None:
    before = np.array([10, 65535, 10, 10, 40000])
    after = np.array([11, 0, 10, 9, 7000])
    assert steps_ahead(before, after).tolist() == [1, 1, 0, 65535, 32536]
    assert is_ahead(before, after).tolist() == [True, True, False, False, True]
    for b, a, want in zip(before.tolist(), after.tolist(), is_ahead(before, after).tolist(), strict=True):
        window = SequenceWindow()
        window.admit(b)
        assert (window.admit(a) and window.hi == a) == want
