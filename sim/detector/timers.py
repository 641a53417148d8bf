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
        self.heap: list[tuple[float, int, int, Callable[[Any], None], Any]] = []
        self._order = 0

    def at(self, due: float, action: Callable[[Any], None], arg: Any, tie: int = 0) -> None:
        """Timers due at the same moment fire by ``tie``, then in the order they were set.
        A timer re-armed a varying number of times (a silence, which the batch path arms
        less often than streaming) passes an intrinsic ``tie`` so that its place among
        equal deadlines does not depend on that history."""
        heapq.heappush(self.heap, (due, tie, self._order, action, arg))
        self._order += 1

    def pop_due(self, now: float) -> tuple[float, Callable[[Any], None], Any] | None:
        """The earliest timer due before ``now``, removed; None if none is."""
        if self.heap and self.heap[0][0] < now:
            due, _, _, action, arg = heapq.heappop(self.heap)
            return due, action, arg
        return None
