"""Choosing the pool (``sim.pipeline.pool``): tagsim's own without Dask; a cluster asked for
without the dask extra is one clear error; an option beats the environment."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from sim.cli import main
from sim.cli_error import CliError
from sim.pipeline.pool import SCHEDULER_ENV, LocalPool, pool_for


def without_dask(monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the dask extra were not installed."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *more: None if name == "distributed" else real(name, *more))


def test_without_a_scheduler_or_a_cluster_the_local_pool_runs_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    pool = pool_for(3)
    assert isinstance(pool, LocalPool) and pool.workers == 3 and not pool.distributed
    assert list(pool_for(1).map_in_order(abs, [-1, 2, -3])) == [1, 2, 3]
    assert list(LocalPool(2).map_in_order(abs, [-4, 5])) == [4, 5]
    assert LocalPool(2).start(abs, [-6, 7]).results() == [6, 7]
    monkeypatch.setenv(SCHEDULER_ENV, "  ")  # blank is unset
    assert isinstance(pool_for(2), LocalPool)


def test_local_units_that_fail_stop_the_others_and_leave_no_pool_running() -> None:
    pending = LocalPool(2).start(_fail_on_two, [1, 2, 3])
    with pytest.raises(ValueError, match="two"):
        pending.results()
    pending.cancel()  # nothing left to stop: no error either


def _fail_on_two(n: int) -> int:
    if n == 2:
        raise ValueError("two")
    return n

@pytest.mark.parametrize("ask", [{"cluster": "local:2"}, {"scheduler": "tcp://127.0.0.1:8786"}, {"env": "tcp://127.0.0.1:8786"}])
def test_a_cluster_without_the_dask_extra_is_one_error_naming_it(ask: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    without_dask(monkeypatch)
    if "env" in ask:
        monkeypatch.setenv(SCHEDULER_ENV, ask["env"])
    with pytest.raises(CliError, match=r"pip install 'tagsim\[dask\]'"):
        pool_for(2, ask.get("scheduler"), ask.get("cluster"))


def test_the_command_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    without_dask(monkeypatch)
    assert main(["run", "--subjects", "10", "--days", "1", "--cluster", "local:2", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tagsim[dask]" in err[0]
    assert main(["run", "--cluster", "local:2", "--scheduler", "tcp://x:1", "--out", str(tmp_path)]) == 2  # one or the other
