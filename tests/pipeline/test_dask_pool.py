"""A Dask cluster as the run's pool (``sim.pipeline.dask_pool``, the dask extra): the same results,
byte for byte, as tagsim's own pool, for a run and a comparison, even when a worker is killed
in the middle of a run."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

pytest.importorskip("distributed", reason="the dask extra: pip install 'tagsim[dask]'")

from sim.compare.outputs import comparison  # noqa: E402
from sim.compare.replicate import Settings, compare  # noqa: E402
from sim.operations.centre.params import load_centre  # noqa: E402
from sim.operations.field.params import load_field  # noqa: E402
from sim.pipeline.dask_pool import DaskPool  # noqa: E402
from sim.policies import load_policy  # noqa: E402
from sim.run import results, run  # noqa: E402
from sim.scenario import load_scenario, load_supplier  # noqa: E402
from sim.score import load_scoring_rules  # noqa: E402

POLICIES = [load_policy("reference"), load_policy("standard")]


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskPool]:
    pool = DaskPool.local("local:2")
    yield pool
    pool.close()


def without_clocks(out: dict) -> str:
    """A results or comparison dict as JSON, less what the clock says (wall times, start time)."""
    out = json.loads(json.dumps(out))
    if "run" in out:
        out["run"].pop("started_utc")
        out["run"].pop("wall_s")
    out.pop("started_utc", None)
    out.pop("wall_s", None)
    return json.dumps(out, indent=1)


def test_a_run_on_a_local_cluster_of_two_is_the_local_pools_byte_for_byte(cluster: DaskPool) -> None:
    scenario = load_scenario("smoke").with_changes(subjects=2_000, days=1.0)
    supplier = load_supplier(scenario.supplier)
    local = run(scenario, supplier, POLICIES, load_scoring_rules(), workers=2)
    on_dask = run(scenario, supplier, POLICIES, load_scoring_rules(), pool=cluster)
    assert cluster.workers == 2 == on_dask.workers
    assert without_clocks(results(on_dask)) == without_clocks(results(local))
    assert on_dask.world.wire_digest == local.world.wire_digest


def test_a_comparison_on_a_local_cluster_is_the_local_pools_byte_for_byte(cluster: DaskPool) -> None:
    scenario = load_scenario("smoke").with_changes(subjects=60, days=1.0)
    suppliers = [load_supplier(n) for n in ("supplier-a", "supplier-b", "supplier-c")]
    settings = Settings(load_scoring_rules(), load_centre(), load_field(), workers=2)
    local, _ = compare(scenario, suppliers, POLICIES[1:], settings, replications=3)
    on_dask, _ = compare(scenario, suppliers, POLICIES[1:], replace(settings, pool=cluster), replications=3)
    assert without_clocks(comparison(on_dask, None, None, 20, "", {})) == \
           without_clocks(comparison(local, None, None, 20, "", {}))


def test_a_worker_killed_in_the_middle_of_a_run_changes_nothing(cluster: DaskPool) -> None:
    scenario = load_scenario("smoke").with_changes(subjects=3_000, days=1.0, seed=3)
    supplier = load_supplier(scenario.supplier)
    local = run(scenario, supplier, POLICIES, load_scoring_rules(), workers=2)
    killed: list[int] = []

    def kill_a_busy_worker() -> None:
        client = cluster.client
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            busy = [address for address, tasks in client.processing().items() if tasks]
            if busy:
                pids = client.run(os.getpid, workers=busy[:1])
                pid = next(iter(pids.values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    on_dask = run(scenario, supplier, POLICIES, load_scoring_rules(), pool=cluster)
    killer.join()
    assert killed, "no worker was busy to kill"
    assert without_clocks(results(on_dask)) == without_clocks(results(local))
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny brought it back


@pytest.mark.parametrize("spec", ["local", "local:0", "local:two", "remote:2"])
def test_a_cluster_in_a_shape_it_cannot_take_is_one_error(spec: str) -> None:
    from sim.cli_error import CliError

    with pytest.raises(CliError, match="expected local:N"):
        DaskPool.local(spec)


def test_a_scheduler_that_is_not_there_is_one_error() -> None:
    from sim.cli_error import CliError

    with pytest.raises(CliError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"):
        DaskPool.connect("tcp://127.0.0.1:9")
