"""Deadlines in processing time: grace expiries, confirmation windows, silences.

A timer fires at its own due time, never at whenever the clock happened to be
advanced, so the detector's output does not depend on how its input was
chunked or how often it was woken.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from typing import Any


class Timers:
    def __init__(self) -> None:
        # Read-only outside: the engine peeks at heap[0] on every record, without a call.
        self.heap: list[tuple[float, int, Callable[[Any], None], Any]] = []
        self._order = 0  # ties fire in the order they were set

    def at(self, due: float, action: Callable[[Any], None], arg: Any) -> None:
        heapq.heappush(self.heap, (due, self._order, action, arg))
        self._order += 1

    def pop_due(self, now: float) -> tuple[float, Callable[[Any], None], Any] | None:
        """The earliest timer due before ``now``, removed; None if none is."""
        if self.heap and self.heap[0][0] < now:
            due, _, action, arg = heapq.heappop(self.heap)
            return due, action, arg
        return None
