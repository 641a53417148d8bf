"""Scale-out (issue 15): the main job on tagsim's local pool and on a Dask LocalCluster, each with
one worker and with two, and each pool's overhead per unit of work. ``extra_info`` holds the
wall times, the speed-up of two workers over one for each pool, and the overhead per task:
the time a pool takes per trivial task beyond the task itself. Needs the dask extra.
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


def overhead_per_task(pool: Pool) -> float:
    """Seconds a pool spends per task that does nothing (``abs``), over a batch of them."""
    started = time.perf_counter()
    list(pool.map_in_order(abs, range(TASKS)))
    return (time.perf_counter() - started) / TASKS


def test_two_workers_against_one_on_each_pool(benchmark) -> None:  # type: ignore[no-untyped-def]
    figures: dict[str, float] = {}

    def measure() -> None:
        for workers in (1, 2):
            local = LocalPool(workers)
            figures[f"local_{workers}_s"] = timed_run(local)
            figures[f"local_{workers}_overhead_per_task_s"] = overhead_per_task(local)
            dask = DaskPool.local(f"local:{workers}")
            try:
                figures[f"dask_{workers}_s"] = timed_run(dask)
                figures[f"dask_{workers}_overhead_per_task_s"] = overhead_per_task(dask)
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
