"""Benchmarks report rates in ``extra_info`` so the JSON output is read directly."""

from __future__ import annotations

import pytest


@pytest.fixture
def rate(benchmark):  # type: ignore[no-untyped-def]
    """Record ``items`` per second of the benchmark's mean round as ``<unit>_per_s``."""

    def record(items: int, unit: str) -> None:
        benchmark.extra_info[f"{unit}_per_s"] = items / benchmark.stats.stats.mean
        benchmark.extra_info[unit] = items

    return record
