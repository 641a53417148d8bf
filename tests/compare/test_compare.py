"""Comparing suppliers (``sim.compare``) end to end on small worlds: identical profiles differ by
nothing, a profile made worse in one known way is found worse where it should be and nowhere
else, common random numbers narrow the intervals, and the precision rule stops as it says."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.compare.observations import Observations
from sim.compare.replicate import Settings, compare
from sim.compare.stats import SAME, TOO_FEW, WORSE
from sim.compare.summary import summarise
from sim.operations.centre.params import load_centre
from sim.operations.field.params import load_field
from sim.policies import load_policy
from sim.scenario import Supplier, load_scenario, load_supplier
from sim.score import load_scoring_rules

SETTINGS = Settings(load_scoring_rules(), load_centre(), load_field())
A = load_supplier("supplier-a")


def small(subjects: int, days: float, seed: int = 1):  # type: ignore[no-untyped-def]
    return load_scenario("smoke").with_changes(subjects=subjects, days=days, seed=seed)


def differences(observed: Observations) -> list[dict]:
    return summarise(observed)["differences"]


def test_identical_profiles_differ_by_nothing_in_every_seeded_comparison() -> None:
    twin = replace(A, name="supplier-a-twin")
    for seed in range(6):
        observed, _ = compare(small(40, 1.0, seed), [A, twin], [load_policy("standard")], SETTINGS, replications=2)
        for d in differences(observed):
            assert d["verdict"] in (SAME, TOO_FEW), d
            assert all(x == 0.0 for x in d["differences"]), d


def twice_the_gps_error(supplier: Supplier) -> Supplier:
    gps = supplier.gps
    return replace(supplier, name="gps-error-x2", gps=replace(gps, outdoor_cep90_m=2 * gps.outdoor_cep90_m,
                                                              indoor_cep90_m=2 * gps.indoor_cep90_m,
                                                              fallback_cep90_m=2 * gps.fallback_cep90_m))


def test_twice_the_gps_error_is_found_worse_on_false_alerts_and_not_on_what_gps_does_not_touch() -> None:
    observed, _ = compare(small(200, 2.0), [twice_the_gps_error(A), A], [load_policy("reference")], SETTINGS,
                          replications=5)
    verdicts = {d["metric"]: d["verdict"] for d in differences(observed)}
    assert verdicts["alerts_per_subject_day"] == WORSE and verdicts["false_per_1000_subject_days"] == WORSE
    for unrelated in ("unmonitored_device_hours", "unmonitored_hours_to_name", "breach_within_deadline"):
        assert verdicts[unrelated] in (SAME, TOO_FEW), unrelated


@pytest.fixture(scope="module")
def shipped() -> Observations:
    suppliers = [load_supplier(name) for name in ("supplier-a", "supplier-b", "supplier-c")]
    observed, _ = compare(small(150, 2.0), suppliers, [load_policy("reference")], SETTINGS, replications=4)
    return observed


def test_common_random_numbers_narrow_the_intervals(shipped: Observations) -> None:
    # The paired interval against the unpaired one on the same runs (at the same degrees of
    # freedom: a ratio of standard errors): narrower for most differences.
    ratios = [d["paired_to_unpaired_width"] for d in differences(shipped) if d["paired_to_unpaired_width"]]
    assert len(ratios) >= 12 and float(np.median(ratios)) < 1.0


def test_the_weak_end_of_the_published_ranges_raises_more_false_alerts(shipped: Observations) -> None:
    b_against = {(d["a"], d["b"], d["metric"]): d["verdict"] for d in differences(shipped)}
    assert b_against[("supplier-a", "supplier-b", "false_per_1000_subject_days")] == "better"
    assert b_against[("supplier-b", "supplier-c", "false_per_1000_subject_days")] == WORSE


def test_a_precision_stops_as_soon_as_it_is_met_or_at_the_most(monkeypatch: pytest.MonkeyPatch) -> None:
    suppliers = [A, load_supplier("supplier-b")]
    judged: list[int] = []

    def met_at_four(observed: Observations, target: float) -> bool:
        judged.append(len(observed.seeds))
        return len(observed.seeds) >= 4

    monkeypatch.setattr("sim.compare.replicate.precise", met_at_four)
    early, met = compare(small(40, 1.0), suppliers, [load_policy("standard")], SETTINGS, precision=0.05, most=6)
    assert met is True and len(early.seeds) == 4 and judged == [1, 2, 3, 4]
    monkeypatch.undo()
    tight, met = compare(small(40, 1.0), suppliers, [load_policy("standard")], SETTINGS, precision=1e-9, most=4)
    assert met is False and len(tight.seeds) == 4
    assert early.seeds == tight.seeds  # replication k's seed is k's whatever the plan
    assert all(len(set(seeds)) == 1 for seeds in tight.seeds)  # every supplier on the replication's seed
    fixed, met = compare(small(40, 1.0), suppliers, [load_policy("standard")], SETTINGS, replications=2)
    assert met is None and fixed.seeds == tight.seeds[:2]


def test_identical_profiles_on_independent_worlds_differ_by_noise_the_intervals_cover() -> None:
    # Without common random numbers a profile against itself differs by each run's luck. Over
    # twenty seeded comparisons, each of every metric at once (Bonferroni), at least the nominal
    # 95% find no significant difference anywhere.
    twin = replace(A, name="supplier-a-twin")
    independent = replace(SETTINGS, common=False)
    clean, noisy = 0, 0
    for seed in range(20):
        observed, _ = compare(small(40, 1.0, seed), [A, twin], [load_policy("standard")], independent, replications=3)
        found = differences(observed)
        noisy += any(d["differences"] and any(x != 0.0 for x in d["differences"]) for d in found)
        clean += all(d["verdict"] in (SAME, TOO_FEW) for d in found)
        assert all(len(set(seeds)) == 2 for seeds in observed.seeds)  # each supplier on seeds of its own
    assert noisy == 20 and clean >= 19


def test_a_comparison_needs_two_suppliers_each_named_once_and_one_plan() -> None:
    policy = [load_policy("standard")]
    for suppliers in ([A], [A, A]):
        with pytest.raises(ValueError, match="two or more suppliers, each named once"):
            compare(small(10, 1.0), suppliers, policy, SETTINGS, replications=2)
    with pytest.raises(ValueError, match="not both"):
        compare(small(10, 1.0), [A, load_supplier("supplier-b")], policy, SETTINGS, replications=2, precision=0.1)
    with pytest.raises(ValueError, match="the most must be at least"):
        compare(small(10, 1.0), [A, load_supplier("supplier-b")], policy, SETTINGS, precision=0.1, most=2)
