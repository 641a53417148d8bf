"""The processes a run's units of work are spread over: tagsim's own local pool, or a Dask
cluster (``sim.pipeline.dask_pool``, the ``dask`` extra). Either takes the same units (a
block of subjects for the world, a group of policies for detection, a run for a comparison)
and gives the same results, bit for bit: every unit is a pure function of its job.
"""

from __future__ import annotations

import importlib.util
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Protocol, TypeVar

from sim.cli_error import CliError

Job = TypeVar("Job")
Result = TypeVar("Result")
SCHEDULER_ENV = "TAGSIM_SCHEDULER"


class Pending(Protocol[Result]):
    def results(self) -> list[Result]:
        """Every unit's result, in the jobs' order, once all are done."""

    def cancel(self) -> None:
        """Stop every unit not yet done (after a failure elsewhere); a no-op once collected."""


class Pool(Protocol):
    workers: int  # units it runs at once
    distributed: bool  # a cluster: a unit as big as a whole run is worth sending

    def map_in_order(self, function: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        """``map`` over jobs, results in the jobs' order as they come."""

    def start(self, function: Callable[[Job], Result], jobs: Sequence[Job]) -> Pending[Result]:
        """Start every job and return at once: the caller works meanwhile and collects later."""

    def close(self) -> None: ...


class LocalPool:
    """``workers`` processes on this machine, spawned (not forked: a worker starts clean,
    whatever the parent holds); one worker runs everything in this process."""

    distributed = False

    def __init__(self, workers: int) -> None:
        self.workers = workers

    def map_in_order(self, function: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        if self.workers <= 1:
            yield from map(function, jobs)
            return
        with multiprocessing.get_context("spawn").Pool(self.workers) as pool:
            yield from pool.imap(function, jobs)

    def start(self, function: Callable[[Job], Result], jobs: Sequence[Job]) -> Pending[Result]:
        return _LocalPending(function, jobs)

    def close(self) -> None:
        pass


class _LocalPending:
    def __init__(self, function: Callable[[Job], Result], jobs: Sequence[Job]) -> None:
        self._pool = multiprocessing.get_context("spawn").Pool(max(1, len(jobs)))
        self._async = self._pool.map_async(function, jobs)

    def results(self) -> list:
        try:
            return self._async.get()
        except BaseException:
            self.cancel()
            raise
        finally:
            self._pool.close()
            self._pool.join()

    def cancel(self) -> None:
        self._pool.terminate()
        self._pool.join()


def pool_for(workers: int, scheduler: str | None = None, cluster: str | None = None) -> Pool:
    """The local pool of ``workers`` processes, unless ``cluster`` (``local:N``, a local Dask
    cluster of N worker processes) or a Dask scheduler's address is given, the option first,
    else the ``TAGSIM_SCHEDULER`` environment variable (blank: unset). One clear error if Dask
    is not installed."""
    if cluster is None and scheduler is None:
        scheduler = (os.environ.get(SCHEDULER_ENV) or "").strip() or None
    if scheduler is None and cluster is None:
        return LocalPool(workers)
    if importlib.util.find_spec("distributed") is None:
        raise CliError("a Dask cluster needs the dask extra: pip install 'tagsim[dask]'")
    from sim.pipeline.dask_pool import DaskPool

    return DaskPool.local(cluster) if cluster is not None else DaskPool.connect(scheduler or "")
