"""A Dask cluster as a run's pool (the ``dask`` extra): an existing scheduler by its address, or
a ``LocalCluster`` of worker processes started here. The units and their results are the local
pool's; Dask sends each job to a worker and its result back, runs again a unit whose worker was
lost (up to the scheduler's ``distributed.scheduler.allowed-failures``, 3 by default; every
unit is a pure function of its job, so a unit run again gives the same result), and shows the
work on its dashboard. A unit that fails by itself is not retried: it would fail the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from dask.distributed import Client, LocalCluster

from sim.cli_error import CliError

Job = TypeVar("Job")
Result = TypeVar("Result")


class DaskPool:
    distributed = True

    def __init__(self, client: Client, cluster: LocalCluster | None = None) -> None:
        self.client, self.cluster = client, cluster
        self.workers = max(1, sum(w["nthreads"] for w in client.scheduler_info()["workers"].values()))

    @classmethod
    def connect(cls, address: str) -> DaskPool:
        try:
            return cls(Client(address, timeout="10s"))
        except (OSError, TimeoutError) as exc:
            raise CliError(f"cannot reach the Dask scheduler at {address}: {exc}") from None

    @classmethod
    def local(cls, spec: str) -> DaskPool:
        """``local:N``: a ``LocalCluster`` of N single-threaded worker processes on this machine."""
        kind, _, count = spec.partition(":")
        if kind != "local" or not count.isdigit() or int(count) < 1:
            raise CliError(f"--cluster {spec!r}: expected local:N, N worker processes (for example local:2)")
        cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, dashboard_address=":0")
        return cls(Client(cluster), cluster)

    @property
    def dashboard(self) -> str | None:
        return self.client.dashboard_link

    def map_in_order(self, function: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        futures = self.client.map(function, list(jobs), pure=False, retries=0)
        for future in futures:
            yield future.result()
            future.release()  # its result is the caller's now: the worker may drop it

    def start(self, function: Callable[[Job], Result], jobs: Sequence[Job]) -> Any:
        return _DaskPending(self.client, self.client.map(function, list(jobs), pure=False, retries=0))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


class _DaskPending:
    def __init__(self, client: Client, futures: list) -> None:
        self.client, self.futures = client, futures

    def results(self) -> list:
        return self.client.gather(self.futures)
