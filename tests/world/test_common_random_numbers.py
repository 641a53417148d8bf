"""Common random numbers (``sim.world.streams``): one seed run with two suppliers' devices gives
the same people, lives and breaches (the world side); a device figure changed moves only what
draws on it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sim.pipeline.world_stream import simulate
from sim.scenario import load_scenario, load_supplier
from sim.world.truth import TruthKind

# Every kind of the world's truth: what the subjects did, their homes' mains, their areas' network.
WORLD_KINDS = (TruthKind.ABSENT_IN_CURFEW, TruthKind.STRAP_TAMPERED, TruthKind.IN_EXCLUSION_ZONE,
               TruthKind.OUT_OF_INCLUSION_ZONE, TruthKind.DRINKING, TruthKind.MAINS_LOST, TruthKind.CELLULAR_OUTAGE)


def busy_world(subjects: int = 60, days: float = 2.0):  # type: ignore[no-untyped-def]
    """``smoke`` with much going on: every kind of misbehaviour common, mains cut often."""
    scenario = load_scenario("smoke").with_changes(subjects=subjects, days=days, seed=5)
    behaviour = replace(scenario.behaviour, late_returner=1.0, night_misser=0.5, strap_remover=0.5, removals_per_week=5.0,
                        zone_enterer=1.0, zone_entries_per_week=7.0, drinker=1.0, non_charger=0.5)
    faults = replace(scenario.faults, mains_cuts_per_unit_year=200.0, outages_per_area_year=50.0)
    return replace(scenario, behaviour=behaviour, faults=faults)


def rows(truth: np.ndarray, kinds: tuple[TruthKind, ...]) -> list[tuple]:
    keep = truth[np.isin(truth["kind"], [int(k) for k in kinds])]
    return sorted(zip(keep["subject"].tolist(), keep["device"].tolist(), keep["kind"].tolist(), keep["start"].tolist(),
                      keep["end"].tolist()))


def test_two_suppliers_meet_the_same_people_lives_and_breaches() -> None:
    scenario = busy_world()
    a, b = load_supplier("supplier-a"), load_supplier("supplier-b")
    run_a, run_b = simulate(scenario, a), simulate(scenario, b)
    for one, other in zip(run_a.subjects, run_b.subjects, strict=True):
        assert (one.home, one.area, one.slots, one.curfew, one.exclusions, one.traits) == \
               (other.home, other.area, other.slots, other.curfew, other.exclusions, other.traits)
    world = rows(run_a.truth, WORLD_KINDS)
    assert world == rows(run_b.truth, WORLD_KINDS)
    assert {kind for _, _, kind, _, _ in world} == {int(k) for k in WORLD_KINDS}  # every kind happened
    # The devices differ: B's noisier sensors and flakier fittings are its own.
    device = (TruthKind.DEVICE_FAULTY, TruthKind.UNMONITORED)
    assert rows(run_a.truth, device) != rows(run_b.truth, device)


def test_one_profile_under_another_name_is_the_same_run() -> None:
    scenario = busy_world(subjects=40, days=1.0)
    a = load_supplier("supplier-a")
    run_a, renamed = simulate(scenario, a), simulate(scenario, replace(a, name="supplier-a-again"))
    assert np.array_equal(run_a.truth, renamed.truth) and run_a.wire_digest == renamed.wire_digest


def test_a_device_figure_changed_moves_only_the_draws_that_use_it() -> None:
    # Twice the GPS position error: the same world, and the same faulty sensors and fittings
    # (their streams are their own); the GPS tags' fixes, and so what reaches the centre, move.
    scenario = busy_world(subjects=40, days=1.0)
    a = load_supplier("supplier-a")
    worse = replace(a, name="gps-x2", gps=replace(a.gps, outdoor_cep90_m=2 * a.gps.outdoor_cep90_m,
                                                  indoor_cep90_m=2 * a.gps.indoor_cep90_m))
    run_a, run_worse = simulate(scenario, a), simulate(scenario, worse)
    untouched = WORLD_KINDS + (TruthKind.DEVICE_FAULTY, TruthKind.UNMONITORED, TruthKind.CHARGE_MISSED)
    assert rows(run_a.truth, untouched) == rows(run_worse.truth, untouched)
    assert run_a.wire_digest != run_worse.wire_digest
