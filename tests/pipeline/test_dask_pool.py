"""A Dask cluster as the run's pool (``sim.pipeline.dask_pool``, the dask extra): the same results,
byte for byte, as tagsim's own pool, for a run and a comparison, even when a worker is killed
in the middle of a run."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

pytest.importorskip("distributed", reason="the dask extra: pip install 'tagsim[dask]'")

from sim.compare.outputs import comparison  # noqa: E402
from sim.compare.replicate import Settings, compare  # noqa: E402
from sim.operations.centre.params import load_centre  # noqa: E402
from sim.operations.field.params import load_field  # noqa: E402
from sim.cli import main  # noqa: E402
from sim.pipeline.dask_pool import ClusterError, DaskPool  # noqa: E402
from sim.pipeline.pool import SCHEDULER_ENV, pool_for  # noqa: E402
from sim.policies import load_policy  # noqa: E402
from sim.run import results, run  # noqa: E402
from sim.scenario import load_scenario, load_supplier  # noqa: E402
from sim.score import load_scoring_rules  # noqa: E402
from clocks import without_clocks  # noqa: E402

POLICIES = [load_policy("reference"), load_policy("standard")]


@pytest.fixture(scope="module")
def cluster() -> Iterator[DaskPool]:
    pool = DaskPool.local("local:2")
    yield pool
    pool.close()


SCENARIO = load_scenario("smoke").with_changes(subjects=3_000, days=1.0, seed=3)  # three blocks of subjects


@pytest.fixture(scope="module")
def local_results() -> str:
    """The scenario on tagsim's own pool of two: what every cluster run must give."""
    result = run(SCENARIO, load_supplier(SCENARIO.supplier), POLICIES, load_scoring_rules(), workers=2)
    return without_clocks(results(result))


def test_a_run_on_a_local_cluster_of_two_is_the_local_pools_byte_for_byte(cluster: DaskPool, local_results: str) -> None:
    on_dask = run(SCENARIO, load_supplier(SCENARIO.supplier), POLICIES, load_scoring_rules(), pool=cluster)
    assert cluster.workers == 2 == on_dask.workers
    assert without_clocks(results(on_dask)) == local_results


def test_a_comparison_on_a_local_cluster_is_the_local_pools_byte_for_byte(cluster: DaskPool) -> None:
    scenario = load_scenario("smoke").with_changes(subjects=60, days=1.0)
    suppliers = [load_supplier(n) for n in ("supplier-a", "supplier-b", "supplier-c")]
    settings = Settings(load_scoring_rules(), load_centre(), load_field(), workers=2)
    local, _ = compare(scenario, suppliers, POLICIES[1:], settings, replications=3)
    on_dask, _ = compare(scenario, suppliers, POLICIES[1:], replace(settings, pool=cluster), replications=3)
    assert without_clocks(comparison(on_dask, None, None, 20, "", {})) == \
           without_clocks(comparison(local, None, None, 20, "", {}))


@pytest.mark.parametrize("stage", ["run_and_spill", "detect_from_files"])
def test_a_worker_killed_in_the_middle_of_a_run_changes_nothing(cluster: DaskPool, stage: str, local_results: str) -> None:
    # A worker busy with a unit of the stage (a block of the world, or a group of policies'
    # detection) is killed; the scheduler runs the unit again elsewhere.
    killed: list[str] = []

    def kill_a_busy_worker() -> None:
        client = cluster.client
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            busy = [address for address, keys in client.processing().items() if any(stage in str(k) for k in keys)]
            if busy:
                pid = next(iter(client.run(os.getpid, workers=busy[:1]).values()))
                os.kill(pid, signal.SIGKILL)
                killed.append(busy[0])
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_worker)
    killer.start()
    on_dask = run(SCENARIO, load_supplier(SCENARIO.supplier), POLICIES, load_scoring_rules(), pool=cluster)
    killer.join()
    assert killed, f"no worker was busy with {stage} to kill"
    assert without_clocks(results(on_dask)) == local_results
    cluster.client.wait_for_workers(2, timeout=60)  # the nanny brought it back


def test_a_unit_that_fails_on_the_cluster_is_one_error_and_the_rest_are_cancelled(cluster: DaskPool) -> None:
    with pytest.raises(ClusterError, match=r"failed on the Dask cluster: ValueError: unit 3") as caught:
        list(cluster.map_in_order(_fails_at_three, range(40)))
    assert "\n" not in str(caught.value)
    time.sleep(0.5)
    assert not any(cluster.client.processing().values())  # nothing left running


def _fails_at_three(n: int) -> int:
    time.sleep(0.05)
    if n == 3:
        raise ValueError("unit 3")
    return n


def test_a_comparison_on_a_cluster_reports_each_replication_as_it_comes(cluster: DaskPool) -> None:
    scenario = load_scenario("smoke").with_changes(subjects=40, days=1.0)
    suppliers = [load_supplier(n) for n in ("supplier-a", "supplier-b")]
    seen: list[int] = []
    settings = Settings(load_scoring_rules(), load_centre(), load_field(), pool=cluster)
    observed, _ = compare(scenario, suppliers, POLICIES[1:], settings, replications=3,
                          on_replication=lambda o: seen.append(len(o.seeds)))
    assert seen == [1, 2, 3] and len(observed.wall_s) == 3 and all(w >= 0 for w in observed.wall_s)


def test_an_option_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SCHEDULER_ENV, "tcp://127.0.0.1:9")  # nothing there
    pool = pool_for(2, cluster="local:1")
    try:
        assert isinstance(pool, DaskPool) and pool.workers == 1
    finally:
        pool.close()


@pytest.mark.parametrize("spec", ["local", "local:0", "local:two", "remote:2"])
def test_a_cluster_in_a_shape_it_cannot_take_is_one_error(spec: str) -> None:
    with pytest.raises(ClusterError, match="expected local:N"):
        DaskPool.local(spec)


@pytest.mark.parametrize("address", ["tcp://127.0.0.1:9", "notanaddress", "http://127.0.0.1:9"])
def test_a_scheduler_that_is_not_there_or_no_address_is_one_error(address: str, capsys: pytest.CaptureFixture[str],
                                                                  tmp_path: Path) -> None:
    threads_before = threading.active_count()
    with pytest.raises(ClusterError, match="cannot reach the Dask scheduler at"):
        DaskPool.connect(address)
    # a Client that failed to start would leave its event loop's thread, whose finaliser later
    # stalls whichever thread collects it (it once stopped the next Client's loop from starting)
    assert threading.active_count() == threads_before
    assert main(["run", "--subjects", "10", "--days", "1", "--scheduler", address, "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "cannot reach the Dask scheduler" in err[0]
