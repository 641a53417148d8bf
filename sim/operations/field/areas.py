"""The field force's areas: a grid laid over the town, each cell with its team of officers,
dealt in proportion to the homes in it."""

from __future__ import annotations

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

    def weights(self) -> np.ndarray:
        """Each area's share of the town's homes (homes lie uniformly over the disc): the disc's
        area in each cell."""
        points = (np.arange(_LATTICE) + 0.5) / _LATTICE * 2 - 1
        x, y = np.meshgrid(points, points)
        inside = x**2 + y**2 <= 1
        counts = np.bincount(self.of(x[inside], y[inside], 1.0), minlength=self.count).astype(float)
        return counts / counts.sum()

    def of(self, x: np.ndarray, y: np.ndarray, radius: float) -> np.ndarray:
        """The area of each place (metres from the centre of a town of ``radius``)."""
        col = np.clip(((x + radius) / (2 * radius) * self.grid).astype(int), 0, self.grid - 1)
        row = np.clip(((y + radius) / (2 * radius) * self.grid).astype(int), 0, self.grid - 1)
        return row * self.grid + col

    def deal(self, officers: int) -> tuple[int, ...]:
        """``officers`` dealt to the areas in proportion to their homes, at least one to each
        area with homes (largest remainders first); too few to cover them all is an error."""
        weights = self.weights()
        covered = weights > 0
        if officers < covered.sum():
            raise ValueError(f"{officers} officers at work cannot cover {int(covered.sum())} areas: no cover")
        share = covered + (officers - covered.sum()) * weights
        dealt = np.floor(share).astype(int)
        for i in np.argsort(-(share - dealt), kind="stable")[: officers - dealt.sum()]:
            dealt[i] += 1
        return tuple(int(n) for n in dealt)
