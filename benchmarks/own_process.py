"""Running a benchmark's work in a spawned process of its own, so its peak memory is the work's."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any


def in_own_process(target: Callable[..., None], *args: Any) -> Any:
    """Call ``target(*args, out)`` in a fresh spawned process and return what it puts on ``out``."""
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()
    process = ctx.Process(target=target, args=(*args, out))
    process.start()
    result = out.get()
    process.join()
    return result
