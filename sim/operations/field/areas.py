"""The field force's areas: a grid laid over the town, each cell with its team of officers,
dealt in proportion to the homes in it."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

_LATTICE = 400  # points a side of the lattice that measures the town's share in each cell


@dataclass(frozen=True, slots=True)
class Areas:
    """Officers work in teams, one an area of a ``grid`` x ``grid`` split of the square about
    the town, row by row."""

    grid: int

    def __post_init__(self) -> None:
        if self.grid < 1:
            raise ValueError(f"grid must be at least 1, got {self.grid}")

    @property
    def count(self) -> int:
        return self.grid * self.grid

    def of(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        """The area of each place (metres from the centre of a town of ``radius``): its cell, or,
        for a cell too thin a sliver of the disc to hold homes, the nearest cell that does."""
        return _served(self.grid)[_cells(self.grid, x / radius, y / radius)]

    def weights(self) -> np.ndarray:
        """Each area's share of the town's homes (homes lie uniformly over the disc): the disc's
        area in each cell, measured on a fine lattice."""
        return _weights(self.grid).copy()

    def deal(self, officers: int) -> tuple[int, ...]:
        """``officers`` dealt to the areas in proportion to their homes: one to each area with homes,
        then one at a time to the area with most homes for each officer it would have (D'Hondt),
        so that one more officer joins one area and moves nobody. Too few to cover every area
        with homes is an error."""
        weights = self.weights()
        covered = weights > 0
        if officers < covered.sum():
            raise ValueError(f"{officers} officers at work cannot cover {int(covered.sum())} areas: no cover")
        dealt = covered.astype(int)
        for _ in range(officers - int(covered.sum())):
            dealt[int(np.argmax(np.where(covered, weights / (dealt + 1), -1.0)))] += 1
        return tuple(int(n) for n in dealt)


def _cells(grid: int, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The cell of each place of a town of radius 1, row by row."""
    col = np.clip(((x + 1) / 2 * grid).astype(int), 0, grid - 1)
    row = np.clip(((y + 1) / 2 * grid).astype(int), 0, grid - 1)
    return row * grid + col


@functools.cache
def _weights(grid: int) -> np.ndarray:
    points = (np.arange(_LATTICE) + 0.5) / _LATTICE * 2 - 1
    x, y = np.meshgrid(points, points)
    inside = x**2 + y**2 <= 1
    counts = np.bincount(_cells(grid, x[inside], y[inside]), minlength=grid * grid).astype(float)
    return counts / counts.sum()


@functools.cache
def _served(grid: int) -> np.ndarray:
    """For each cell, the area that serves it: itself if it holds homes, else the nearest that does."""
    covered = np.flatnonzero(_weights(grid) > 0)
    row, col = np.divmod(np.arange(grid * grid), grid)
    crow, ccol = np.divmod(covered, grid)
    nearest = np.argmin((row[:, None] - crow[None, :]) ** 2 + (col[:, None] - ccol[None, :]) ** 2, axis=1)
    return covered[nearest]
