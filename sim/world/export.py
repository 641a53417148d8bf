"""A run's telemetry and truth as CSV files, for a reader outside Python."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from sim.detector.telemetry import Telemetry
from sim.world.truth import TruthKind

TELEMETRY_COLUMNS = ("device", "subject", "kind", "event_time", "receive_time", "seq", "flags", "value", "fixes")
FIX_COLUMNS = ("device", "seq", "receive_time", "time", "lat", "lon", "accuracy_m")
TRUTH_COLUMNS = ("subject", "device", "kind", "start", "end")


def write_telemetry(records: list[Telemetry], telemetry_csv: Path, fixes_csv: Path) -> None:
    """One row a record (kind by name, fixes counted), and one row a GPS fix beside it."""
    with telemetry_csv.open("w", newline="") as tf, fixes_csv.open("w", newline="") as ff:
        records_out, fixes_out = csv.writer(tf), csv.writer(ff)
        records_out.writerow(TELEMETRY_COLUMNS)
        fixes_out.writerow(FIX_COLUMNS)
        for r in records:
            fixes = r.fixes if r.fixes is not None else np.empty(0)
            records_out.writerow((r.device, r.subject, r.kind.name.lower(), repr(r.event_time), repr(r.receive_time),
                                  r.seq, r.flags, repr(r.value), len(fixes)))
            for fix in fixes.tolist():
                fixes_out.writerow((r.device, r.seq, repr(r.receive_time), *(repr(v) for v in fix)))


def write_truth(truth: np.ndarray, path: Path) -> None:
    with path.open("w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(TRUTH_COLUMNS)
        for subject, device, kind, start, end in truth.tolist():
            out.writerow((subject, device, TruthKind(kind).label, repr(start), repr(end)))
