"""Each published figure beside tagsim's, per policy, with the ratio."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sim.calibration.published import Calibration


def calibration_rows(calibration: Calibration, by_policy: Mapping[str, Mapping[str, float | None]]) -> list[dict[str, Any]]:
    """One row per published figure: its name, measure, value and source, and for each
    policy tagsim's figure and the ratio tagsim / published (None where undefined)."""
    rows = []
    for figure in calibration.figures:
        tagsim = {name: measures[figure.measure] for name, measures in by_policy.items()}
        rows.append({
            "name": figure.name, "measure": figure.measure, "published": figure.value, "source": figure.source,
            "tagsim": tagsim,
            "ratio": {name: (v / figure.value if v is not None and figure.value else None) for name, v in tagsim.items()},
        })
    return rows
