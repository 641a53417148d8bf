"""Peak resident memory of a process and every process under it, together."""

from __future__ import annotations

import os
import threading
from pathlib import Path


def resident_bytes(pid: int) -> int:
    """The process's resident memory now, or 0 if it has gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def descendants(pid: int) -> list[int]:
    """Every process under ``pid`` (Linux's per-thread children lists)."""
    found = []
    for children in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in children.read_text().split()]
        except OSError:
            continue
    return found + [grandchild for child in found for grandchild in descendants(child)]


class PeakRss:
    """The largest sum of this process's and its descendants' resident memory, sampled every
    ``interval_s`` while in the ``with`` block. A lower bound on the true peak: a spike
    between two samples is missed (rusage's peaks, per process, are the upper side)."""

    def __init__(self, interval_s: float = 0.2) -> None:
        self.interval_s = interval_s
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        me = os.getpid()
        while True:
            total = sum(resident_bytes(pid) for pid in [me, *descendants(me)])
            self.peak_bytes = max(self.peak_bytes, total)
            if self._stop.wait(self.interval_s):
                return
