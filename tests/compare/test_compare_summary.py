"""A comparison summed up (``sim.compare.summary``) from observations made by hand: the
differences' intervals at the Bonferroni level, the verdict's direction by metric, replications
paired in step, the means beside each difference, the precision rule's level and its gaps."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from sim.compare.metrics import METRICS
from sim.compare.observations import Observations
from sim.compare.summary import paired, precise, summarise
from sim.scenario import load_scenario, load_supplier

RECALL = next(m for m in METRICS if m.name == "recall")
ALERTS = next(m for m in METRICS if m.name == "alerts_per_subject_day")


def observed(a: dict[str, list[float | None]], b: dict[str, list[float | None]]) -> Observations:
    supplier = load_supplier("supplier-a")
    obs = Observations(load_scenario("smoke"), [replace(supplier, name="a"), replace(supplier, name="b")], ["p"],
                       (ALERTS, RECALL))
    for name, values in (("a", a), ("b", b)):
        for metric, series in values.items():
            for v in series:
                obs.add(name, "p", metric, v)
    return obs


def test_a_difference_is_paired_replication_by_replication_at_the_bonferroni_level() -> None:
    a = [1.0, 1.4, 0.9, 1.3, 1.2]
    b = [0.5, 1.0, 0.3, 0.9, 0.8]
    summary = summarise(observed({"alerts_per_subject_day": a, "recall": a}, {"alerts_per_subject_day": b, "recall": b}))
    level = summary["correction"]["level_each"]
    assert summary["correction"]["comparisons"] == 2 and level == pytest.approx(1 - 0.05 / 2)
    d = next(x for x in summary["differences"] if x["metric"] == "alerts_per_subject_day")
    diff = np.array(a) - np.array(b)
    half = stats.t.ppf(0.5 + level / 2, 4) * diff.std(ddof=1) / math.sqrt(5)
    assert (d["low"], d["high"]) == pytest.approx((diff.mean() - half, diff.mean() + half))
    assert (d["a_mean"], d["b_mean"]) == pytest.approx((np.mean(a), np.mean(b)))


def test_more_is_worse_for_alerts_and_better_for_recall() -> None:
    a, b = [2.0, 2.1, 2.2, 2.05], [1.0, 1.05, 1.2, 1.1]
    verdicts = {d["metric"]: d["verdict"] for d in summarise(observed(
        {"alerts_per_subject_day": a, "recall": a}, {"alerts_per_subject_day": b, "recall": b}))["differences"]}
    assert verdicts == {"alerts_per_subject_day": "worse", "recall": "better"}


def test_replications_pair_in_step_where_both_have_a_value() -> None:
    obs = observed({"recall": [0.5, None, 0.7, 0.9], "alerts_per_subject_day": [None] * 4},
                   {"recall": [None, 0.4, 0.6, 0.8], "alerts_per_subject_day": [None] * 4})
    x, y = paired(obs, "a", "b", "p", "recall")
    assert x.tolist() == [0.7, 0.9] and y.tolist() == [0.6, 0.8]


def test_two_equal_differences_are_too_few_for_a_verdict() -> None:
    # Every replication one apart: an interval of no width, which two runs cannot warrant.
    obs = observed({"recall": [0.9, 0.8], "alerts_per_subject_day": [None, None]},
                   {"recall": [0.8, 0.7], "alerts_per_subject_day": [None, None]})
    (d,) = [x for x in summarise(obs)["differences"] if x["metric"] == "recall"]
    assert d["verdict"] == "too few replications" and not precise(obs, 0.5)


def test_the_precision_rule_judges_the_widened_interval_and_leaves_out_only_what_never_had_a_value() -> None:
    # Ten replications a tenth apart give an interval within 5% at 95% but not at the Bonferroni
    # level over two comparisons, and within 7% at that level.
    rng = np.random.default_rng(3)
    b = list(10.0 + rng.normal(0.0, 0.3, 10))
    a = [x + 0.1 + e for x, e in zip(b, rng.normal(0.0, 0.6, 10), strict=True)]
    diff = np.array(a) - np.array(b)
    at_95 = stats.t.ppf(0.975, 9) * diff.std(ddof=1) / math.sqrt(10)
    at_bonferroni = stats.t.ppf(1 - 0.0125, 9) * diff.std(ddof=1) / math.sqrt(10)
    scale = max(abs(np.mean(a)), abs(np.mean(b)))
    target = (at_95 + at_bonferroni) / 2 / scale  # between the two
    never = [None] * 10
    assert not precise(observed({"alerts_per_subject_day": a, "recall": never}, {"alerts_per_subject_day": b, "recall": never}),
                       target)
    assert precise(observed({"alerts_per_subject_day": a, "recall": never}, {"alerts_per_subject_day": b, "recall": never}),
                   1.01 * at_bonferroni / scale)
    # A metric with values for one supplier and too few pairs is not yet precise.
    assert not precise(observed({"alerts_per_subject_day": a, "recall": [0.5] + never[1:]},
                                {"alerts_per_subject_day": b, "recall": never}), 1.0)
