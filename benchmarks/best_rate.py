"""A reference's rate: items a second over the best of a few tries, so one burst of another
process's work does not make it."""

from __future__ import annotations

import time
from collections.abc import Callable


def best_rate(items: int, run: Callable[[], object], repeats: int = 3) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return items / best
