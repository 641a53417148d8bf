"""The main job end to end (``tagsim run``'s pipeline) on a reduced ``doubled`` scenario.

The doubled caseload's mix, faults and network, cut to 5,000 subjects for two
days so the run stays about a minute on two cores: the world simulated once,
both shipped policies detecting on the same telemetry, every alert scored.
Beside the wall time, ``extra_info`` carries what CI tracks per commit: the
throughput (simulated subject-days per wall second) and each policy's alerts
per subject-day, false-alert share, precision and recall. Beside it, its
rates measured just before and just after the run, the reference of
``same_run_reference`` for the run's frames and telemetry bytes, and
``ratio_to_reference`` (the reference's time over the run's: higher is
faster), which ``tagsim bench --compare`` judges.
"""

from __future__ import annotations

from same_run_reference import reference_figures, reference_rates, telemetry_bytes

from sim.policies import load_policy
from sim.run import run
from sim.scenario import load_scenario, load_supplier
from sim.score import load_scoring_rules

SUBJECTS, DAYS, WORKERS = 5_000, 2.0, 2


def test_reduced_doubled_end_to_end(benchmark) -> None:  # type: ignore[no-untyped-def]
    scenario = load_scenario("doubled").with_changes(subjects=SUBJECTS, days=DAYS)
    supplier = load_supplier(scenario.supplier)
    policies = [load_policy("naive"), load_policy("standard")]
    rules = load_scoring_rules()
    before = reference_rates()
    result = benchmark.pedantic(run, args=(scenario, supplier, policies, rules), kwargs={"workers": WORKERS}, rounds=1)
    after = reference_rates()
    assert set(result.policies) == {"naive", "standard"}
    info = {"subjects": SUBJECTS, "days": DAYS, "workers": WORKERS, "frames": result.world.centre.frames,
            "subject_days_per_s": SUBJECTS * DAYS / result.wall_s["total"]}
    for name, policy_run in result.policies.items():
        overall = policy_run.scorecard.overall
        assert overall.alerts == sum(1 for a in policy_run.alerts if a.category.value == "breach")
        info.update({f"{name}_alerts_per_subject_day": overall.alerts_per_subject_day,
                     f"{name}_false_share": overall.false_share, f"{name}_precision": overall.precision,
                     f"{name}_recall": overall.recall, f"{name}_detect_s": policy_run.wall_s})
    stats = result.policies["standard"].stats
    info.update(reference_figures(before, after, result.world.centre.frames, telemetry_bytes(stats.records, stats.fixes),
                                  result.wall_s["total"]))
    benchmark.extra_info.update(info)
