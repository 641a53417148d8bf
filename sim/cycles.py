"""Pausing Python's cycle collector around work that makes millions of short-lived objects.

The collector runs every few hundred allocations and walks every tracked
object that survived; a simulation block or a scoring pass holds millions of
small objects (frames, records, verdicts) with no reference cycles to speak of,
and those walks cost a quarter to a half of their time.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """The collector off inside, and back as it was after (reference counting still frees)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
