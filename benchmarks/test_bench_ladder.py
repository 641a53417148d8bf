"""The main job end to end (``tagsim run``'s pipeline and outputs) on a subject ladder, and two weeks.

Each run is ``sim.run.run`` with the default policies (reference and standard)
on two worker processes, then ``sim.run.write_outputs`` into a temporary
folder, in a fresh spawned process so that its peak memory is its own. The
issue's targets (issue 12): ``doubled`` (53,294 subjects, 7 days) within 10
minutes (1,000x real time or better); ``stress`` (106,588 subjects, 7 days)
within 4 GiB, all processes together, its cost linear in subject-days.

Reported in ``extra_info``: the wall time, per subject-day and per stage (the
results' ``run.wall_s``, and writing the outputs); peak RSS of the run's main
process and of its largest worker (rusage), their sum with every worker at the
largest's peak (an upper bound), and the sum over all processes sampled
during the run (a lower bound); memory per subject-day and per byte of
telemetry; alerts per subject-day of each policy. Beside each run, its rates
measured in the same session just before and just after the run, the
reference of ``same_run_reference`` for the run's frames and telemetry bytes,
and ``ratio_to_reference`` (the reference's time over the run's: higher is
faster), which ``tagsim bench --compare`` judges instead of the absolute time.

All are ``slow``: the ladder's top rung and the weeks take minutes and
gigabytes. ``TAGSIM_LADDER_MAX=N`` caps every run here at N subjects
(rungs above N are dropped; below the first rung, the ladder is one rung of N
subjects), to check the code on a small machine: capped figures say nothing of
the targets, and say they were capped.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import resource
import tempfile
import time
from pathlib import Path

import pytest
from own_process import in_own_process
from peak_rss import PeakRss
from same_run_reference import reference_figures, reference_rates, telemetry_bytes

from sim.cli import DEFAULT_POLICIES
from sim.policies import load_policy
from sim.run import run, write_outputs
from sim.scenario import load_scenario, load_supplier
from sim.score import load_scoring_rules

pytestmark = pytest.mark.slow

WORKERS = 2
LADDER = [5_000, 10_000, 26_647, 53_294, 106_588]  # subjects, a day each: today's caseload, 2x and 4x among them
LADDER_MAX = "TAGSIM_LADDER_MAX"
MIB = 2**20


def _cap() -> int | None:
    text = os.environ.get(LADDER_MAX)
    return int(text) if text else None


def ladder() -> list[int]:
    """The rungs, under the cap if one is set."""
    cap = _cap()
    if cap is None:
        return LADDER
    return [n for n in LADDER if n <= cap] or [cap]


def _end_to_end(scenario_name: str, subjects: int | None, days: float | None, out: multiprocessing.Queue) -> None:
    """One run and its outputs, in this (fresh) process; its figures onto ``out``."""
    scenario = load_scenario(scenario_name)
    changes = {k: v for k, v in (("subjects", subjects), ("days", days)) if v is not None}
    scenario = scenario.with_changes(**changes)
    supplier = load_supplier(scenario.supplier)
    policies = [load_policy(name) for name in DEFAULT_POLICIES]
    rules = load_scoring_rules()
    with PeakRss() as sampled, tempfile.TemporaryDirectory(prefix="tagsim-bench-") as folder:
        start = time.perf_counter()
        result = run(scenario, supplier, policies, rules, workers=WORKERS)
        ran = time.perf_counter()
        outputs = write_outputs(result, Path(folder))
        end = time.perf_counter()
        output_bytes = sum(f.stat().st_size for f in Path(folder).iterdir())
    main_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    stages = outputs["run"]["wall_s"]
    some_policy = next(iter(outputs["policies"].values()))["detector"]
    subject_days = scenario.subjects * scenario.days
    figures = {
        "scenario": scenario.name, "subjects": scenario.subjects, "days": scenario.days, "workers": WORKERS,
        "subject_days": subject_days, "wall_s": end - start, "wall_s_per_subject_day": (end - start) / subject_days,
        "sim_s_per_wall_s": scenario.days * 86400 / (end - start),
        "world_s": stages["world"], **{f"detect_{name}_s": s for name, s in stages["detect"].items()},
        "score_s": stages["score"], "outputs_s": end - ran,
        "frames": outputs["world"]["centre"]["frames"],
        "telemetry_bytes": telemetry_bytes(some_policy["records"], some_policy["fixes"]),
        "output_bytes": output_bytes,
        "peak_rss_main_mib": main_mib, "peak_rss_worker_mib": worker_mib,
        "peak_rss_bound_mib": main_mib + WORKERS * worker_mib, "peak_rss_sampled_mib": sampled.peak_bytes / MIB,
    }
    figures["bytes_per_subject_day"] = figures["peak_rss_bound_mib"] * MIB / subject_days
    figures["peak_rss_per_telemetry_byte"] = figures["peak_rss_bound_mib"] * MIB / figures["telemetry_bytes"]
    for name, policy in outputs["policies"].items():
        figures[f"{name}_alerts_per_subject_day"] = policy["scorecard"]["overall"]["alerts_per_subject_day"]
    out.put(figures)


def measure(benchmark, scenario_name: str, subjects: int | None = None, days: float | None = None) -> None:  # type: ignore[no-untyped-def]
    """The run timed in its own process (capped if asked) between two takes of the same-run
    reference's rates, here; checked to have produced results and recorded in full."""
    cap = _cap()
    if cap is not None:
        subjects = min(subjects or load_scenario(scenario_name).subjects, cap)
    before = reference_rates()
    figures = benchmark.pedantic(in_own_process, args=(_end_to_end, scenario_name, subjects, days), rounds=1)
    after = reference_rates()
    assert figures["frames"] > 0 and figures["telemetry_bytes"] > 0 and figures["output_bytes"] > 0
    for name in DEFAULT_POLICIES:
        assert math.isfinite(figures[f"{name}_alerts_per_subject_day"])
    figures.update(reference_figures(before, after, figures["frames"], figures["telemetry_bytes"], figures["wall_s"]))
    figures["reference_s_per_subject_day"] = figures["reference_s"] / figures["subject_days"]
    figures["capped"] = cap is not None
    benchmark.extra_info.update(figures)


@pytest.mark.parametrize("subjects", ladder(), ids=lambda n: f"{n}-subjects")
def test_stress_ladder_a_day(benchmark, subjects: int) -> None:  # type: ignore[no-untyped-def]
    """Cost per subject-day and memory on the ``stress`` settings, a day at each population."""
    measure(benchmark, "stress", subjects, 1.0)


def test_doubled_week_end_to_end(benchmark) -> None:  # type: ignore[no-untyped-def]
    """``tagsim run doubled``: 53,294 subjects for 7 days, both default policies, every output."""
    measure(benchmark, "doubled")
    benchmark.extra_info.update(target_wall_s=600, target_sim_s_per_wall_s=1000)


def test_stress_week_peak_memory(benchmark) -> None:  # type: ignore[no-untyped-def]
    """``tagsim run stress``: 106,588 subjects for 7 days (about 17 minutes on this machine), judged on its peak memory."""
    measure(benchmark, "stress")
    benchmark.extra_info.update(target_peak_rss_mib=4096)
