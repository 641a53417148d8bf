"""Common random numbers (``sim.world.streams``): one seed run with two suppliers' devices gives
the same people, lives and breaches (the world side), and each supplier's devices their own
luck (the device side)."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from sim.pipeline.world_stream import simulate
from sim.scenario import load_scenario, load_supplier
from sim.world.routine import live
from sim.world.streams import Streams, Use
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


def test_one_profile_under_another_name_differs_by_its_devices_luck_alone() -> None:
    scenario = busy_world(subjects=40, days=1.0)
    a = load_supplier("supplier-a")
    renamed = replace(a, name="supplier-a-again")
    run_a, run_renamed, again = simulate(scenario, a), simulate(scenario, renamed), simulate(scenario, a)
    assert rows(run_a.truth, WORLD_KINDS) == rows(run_renamed.truth, WORLD_KINDS)
    faulty = (TruthKind.DEVICE_FAULTY,)
    assert rows(run_a.truth, faulty) != rows(run_renamed.truth, faulty)
    assert rows(run_a.truth, faulty) == rows(again.truth, faulty) and run_a.wire_digest == again.wire_digest


def test_a_subjects_routine_stream_is_the_worlds() -> None:
    scenario = busy_world(subjects=5)
    one, other = Streams(scenario.seed, devices=1), Streams(scenario.seed, devices=2)
    for index in range(5):
        assert one.subject(index, Use.ROUTINE).random() == other.subject(index, Use.ROUTINE).random()
        assert one.subject(index, Use.GPS).random() != other.subject(index, Use.GPS).random()
    subject = simulate(scenario, load_supplier("supplier-a")).subjects[0]
    lives = [live(subject, scenario, streams.subject(0, Use.ROUTINE)) for streams in (one, other)]
    for name in lives[0].__dataclass_fields__:
        first, second = (getattr(life, name) for life in lives)
        assert np.array_equal(first, second) if isinstance(first, np.ndarray) else first == second, name
