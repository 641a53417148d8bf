"""The stream's unit: the records received in one span of receive time."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.world.draws import DAY_S

# The stream's unit of receive time. A quarter of a day keeps the main process's merge of the
# doubled caseload (about 2M records and 4M GPS fixes a span) to about a gigabyte.
SPAN_S = DAY_S / 4


@dataclass(frozen=True)
class TelemetrySpan:
    """The records received in [start, end), as the detector's batch arrays
    (``docs/telemetry.md``), ``order`` numbering them in receive order within the span."""

    index: int
    start: float
    end: float
    events: np.ndarray  # RECORD_DTYPE
    fixes: np.ndarray  # BATCH_FIX_DTYPE
