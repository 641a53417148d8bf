"""Scale-out (issue 15): the main job on tagsim's local pool and on a Dask LocalCluster, each with
one worker and with two, and each pool's costs. ``extra_info`` holds the wall times, the
speed-up of two workers over one for each pool, each pool's start-up (the local pool starts
its processes at every stage that uses them; a cluster once) and its overhead per task once
started: (a batch of trivial tasks less one trivial task) over the batch less one, so the
start-up cancels out. Needs the dask extra.
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("distributed", reason="the dask extra: pip install 'tagsim[dask]'")

from sim.pipeline.dask_pool import DaskPool  # noqa: E402
from sim.pipeline.pool import LocalPool, Pool  # noqa: E402
from sim.policies import load_policy  # noqa: E402
from sim.run import run  # noqa: E402
from sim.scenario import load_scenario, load_supplier  # noqa: E402
from sim.score import load_scoring_rules  # noqa: E402

SUBJECTS = 6_000  # six blocks of subjects: enough units for two workers to share
TASKS = 200


def timed_run(pool: Pool) -> float:
    scenario = load_scenario("smoke").with_changes(subjects=SUBJECTS, days=1.0)
    started = time.perf_counter()
    run(scenario, load_supplier(scenario.supplier), [load_policy("reference"), load_policy("standard")],
        load_scoring_rules(), pool=pool)
    return time.perf_counter() - started


def costs(pool: Pool) -> tuple[float, float]:
    """(seconds for one trivial task, start-up included for a pool that starts per map; seconds
    per further task)."""
    started = time.perf_counter()
    list(pool.map_in_order(abs, range(1)))
    one = time.perf_counter() - started
    started = time.perf_counter()
    list(pool.map_in_order(abs, range(TASKS)))
    many = time.perf_counter() - started
    return one, (many - one) / (TASKS - 1)


def test_two_workers_against_one_on_each_pool(benchmark) -> None:  # type: ignore[no-untyped-def]
    figures: dict[str, float] = {}

    def measure() -> None:
        for workers in (1, 2):
            local = LocalPool(workers)
            figures[f"local_{workers}_s"] = timed_run(local)
            figures[f"local_{workers}_first_task_s"], figures[f"local_{workers}_per_task_s"] = costs(local)
            started = time.perf_counter()
            dask = DaskPool.local(f"local:{workers}")
            figures[f"dask_{workers}_cluster_start_s"] = time.perf_counter() - started
            try:
                figures[f"dask_{workers}_s"] = timed_run(dask)
                figures[f"dask_{workers}_first_task_s"], figures[f"dask_{workers}_per_task_s"] = costs(dask)
            finally:
                dask.close()

    benchmark.pedantic(measure, rounds=1)
    benchmark.extra_info.update(
        subjects=SUBJECTS, days=1.0, **figures,
        local_speedup=figures["local_1_s"] / figures["local_2_s"],
        dask_speedup=figures["dask_1_s"] / figures["dask_2_s"],
        # The same-run reference: the local pool's two workers; below 1 the cluster is slower.
        ratio_to_reference=figures["local_2_s"] / figures["dask_2_s"],
    )
