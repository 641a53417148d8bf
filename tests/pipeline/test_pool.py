"""Choosing the pool (``sim.pipeline.pool``): tagsim's own without Dask; a cluster asked for
without the dask extra, or in a shape it cannot take, is one clear error."""

from __future__ import annotations

import sys

import pytest

from sim.cli import main
from sim.cli_error import CliError
from sim.pipeline.pool import SCHEDULER_ENV, LocalPool, pool_for


def test_without_a_scheduler_or_a_cluster_the_local_pool_runs_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SCHEDULER_ENV, raising=False)
    pool = pool_for(3)
    assert isinstance(pool, LocalPool) and pool.workers == 3 and not pool.distributed
    assert list(pool_for(1).map_in_order(abs, [-1, 2, -3])) == [1, 2, 3]
    assert list(LocalPool(2).map_in_order(abs, [-4, 5])) == [4, 5]
    assert LocalPool(2).start(abs, [-6, 7]).results() == [6, 7]


@pytest.mark.parametrize("ask", [{"cluster": "local:2"}, {"scheduler": "tcp://127.0.0.1:8786"}, {"env": "tcp://127.0.0.1:8786"}])
def test_a_cluster_without_the_dask_extra_is_one_error_naming_it(ask: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sim.pipeline.dask_pool", None)  # as if Dask were not installed
    if "env" in ask:
        monkeypatch.setenv(SCHEDULER_ENV, ask["env"])
    with pytest.raises(CliError, match=r"pip install 'tagsim\[dask\]'"):
        pool_for(2, ask.get("scheduler"), ask.get("cluster"))


def test_the_command_says_so_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "sim.pipeline.dask_pool", None)
    assert main(["run", "--subjects", "10", "--days", "1", "--cluster", "local:2"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "tagsim[dask]" in err[0]
    assert main(["run", "--cluster", "local:2", "--scheduler", "tcp://x:1"]) == 2  # one or the other
