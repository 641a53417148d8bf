"""A Dask cluster as a run's pool (the ``dask`` extra): an existing scheduler by its address, or
a ``LocalCluster`` of worker processes started here. The units and their results are the local
pool's; Dask sends each job to a worker and its result back, runs again a unit whose worker was
lost (up to the scheduler's ``distributed.scheduler.allowed-failures``, 3 by default; every
unit is a pure function of its job, so a unit run again gives the same result), and shows the
work on its dashboard. A unit that fails by itself is not retried: it would fail the same way;
its failure is one ``ClusterError`` and the units still to run are cancelled.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from importlib.metadata import version
from typing import Any, TypeVar

from dask.distributed import Client, LocalCluster
from distributed.comm.addressing import get_address_host_port, parse_address
from distributed.comm.registry import get_backend

from sim.cli_error import CliError

Job = TypeVar("Job")
Result = TypeVar("Result")
CONNECT_TIMEOUT_S = 10.0


class ClusterError(CliError):
    """A unit of work failed on the cluster, or the cluster could not be reached or used."""


def _probe(address: str) -> None:
    """Raise ValueError for an address Dask cannot read, OSError for one nobody answers at.

    Before any ``Client``: one that fails to start leaves its event-loop thread behind, and its
    finaliser later blocks whichever thread collects it for up to twice the timeout.
    """
    scheme, _ = parse_address(address)
    get_backend(scheme)
    with socket.create_connection(get_address_host_port(address), timeout=CONNECT_TIMEOUT_S):
        pass


class DaskPool:
    distributed = True

    def __init__(self, client: Client, cluster: LocalCluster | None = None) -> None:
        self.client, self.cluster = client, cluster
        self._check_versions()

    @property
    def workers(self) -> int:
        """Units the cluster runs at once: its workers' threads, as they stand now."""
        return max(1, sum(self.client.nthreads().values()))

    @classmethod
    def connect(cls, address: str) -> DaskPool:
        try:
            _probe(address)
            client = Client(address, timeout=f"{CONNECT_TIMEOUT_S:g}s")
        except (OSError, TimeoutError, ValueError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address!r}, or it has no workers: {exc}") from None
        try:
            client.wait_for_workers(1, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError) as exc:
            client.close()
            raise ClusterError(f"cannot reach the Dask scheduler at {address!r}, or it has no workers: {exc}") from None
        return cls(client)

    @classmethod
    def local(cls, spec: str) -> DaskPool:
        """``local:N``: a ``LocalCluster`` of N single-threaded worker processes on this machine,
        each with Dask's default memory limit (the machine's memory over N); its dashboard's
        address goes to stderr."""
        kind, _, count = spec.partition(":")
        if kind != "local" or not count.isdigit() or int(count) < 1:
            raise ClusterError(f"--cluster {spec!r}: expected local:N, N worker processes (for example local:2)")
        cluster = LocalCluster(n_workers=int(count), threads_per_worker=1, processes=True, dashboard_address=":0")
        try:
            client = Client(cluster)
            client.wait_for_workers(int(count), timeout=60)
        except BaseException:
            cluster.close()
            raise
        print(f"tagsim: Dask dashboard at {client.dashboard_link}", file=sys.stderr)
        return cls(client, cluster)

    def map_in_order(self, function: Callable[[Job], Result], jobs: Iterable[Job]) -> Iterator[Result]:
        futures = self.client.map(function, list(jobs), pure=False, retries=0)
        try:
            for future in futures:
                yield _result(future)
                future.release()  # its result is the caller's now: the worker may drop it
        finally:
            self.client.cancel([f for f in futures if not f.done()])

    def start(self, function: Callable[[Job], Result], jobs: Sequence[Job]) -> Any:
        return _DaskPending(self.client, self.client.map(function, list(jobs), pure=False, retries=0))

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()

    def _check_versions(self) -> None:
        """Every worker must run this tagsim: another would give other results."""
        here = version("tagsim")
        theirs = {v for v in self.client.run(_tagsim_version).values()}
        if theirs - {here}:
            self.close()
            raise ClusterError(f"the cluster's workers run tagsim {', '.join(sorted(theirs))}; this is {here}: "
                               f"install the same on every worker")


class _DaskPending:
    def __init__(self, client: Client, futures: list) -> None:
        self.client, self.futures = client, futures

    def results(self) -> list:
        try:
            return [_result(f) for f in self.futures]
        except BaseException:
            self.cancel()
            raise

    def cancel(self) -> None:
        self.client.cancel([f for f in self.futures if not f.done()])


def _result(future: Any) -> Any:
    """A unit's result, or its failure as one ``ClusterError`` naming the unit."""
    try:
        return future.result()
    except Exception as exc:  # the unit's own error, or the cluster's (a worker lost once too often)
        raise ClusterError(f"a unit of work ({future.key}) failed on the Dask cluster: "
                           f"{type(exc).__name__}: {exc}") from exc


def _tagsim_version() -> str:
    return version("tagsim")
