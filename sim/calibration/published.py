"""The published figures (``seeds/calibration.toml``), each with its source, checked on load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim.calibration.measures import MEASURES
from sim.seeds import ParamsError, build, load_toml, seeds_dir

CALIBRATION_FILE = "calibration.toml"


@dataclass(frozen=True, slots=True)
class PublishedFigure:
    name: str
    measure: str  # tagsim's figure on the same definition: a key of ``measures.MEASURES``
    value: float
    source: str


@dataclass(frozen=True, slots=True)
class _Bounds:
    alerts_per_person_day: tuple[float, float]


@dataclass(frozen=True, slots=True)
class Calibration:
    figures: tuple[PublishedFigure, ...]
    # The band today's centre (the reference policy) must fall in.
    alerts_per_person_day: tuple[float, float]


def load_calibration(path: Path | None = None) -> Calibration:
    """The published figures in ``path``, or the shipped ``seeds/calibration.toml``."""
    path = seeds_dir() / CALIBRATION_FILE if path is None else path
    where = str(path)
    table = load_toml(path)
    unknown = sorted(set(table) - {"figure", "bounds"})
    if unknown:
        raise ParamsError(f"{where}: unknown key {unknown[0]!r} (known: bounds, figure)")
    rows = table.get("figure")
    if not isinstance(rows, list) or not rows:
        raise ParamsError(f"{where}: needs at least one [[figure]]")
    figures = tuple(build(PublishedFigure, row, f"{where} [[figure]] {i + 1}") for i, row in enumerate(rows))
    for i, figure in enumerate(figures):
        if figure.measure not in MEASURES:
            raise ParamsError(f"{where} [[figure]] {i + 1}: measure: unknown measure {figure.measure!r} "
                              f"(known: {', '.join(MEASURES)})")
    bounds = build(_Bounds, table.get("bounds"), f"{where} [bounds]")
    low, high = bounds.alerts_per_person_day
    if not 0 <= low < high:
        raise ParamsError(f"{where} [bounds]: alerts_per_person_day must be [low, high] with 0 <= low < high")
    return Calibration(figures, (low, high))
