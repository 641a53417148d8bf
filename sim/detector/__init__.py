"""The breach detector: telemetry records in, alerts out.

Pure: it imports nothing from ``sim.world``, ``sim.links`` or SimPy, reads no
clock of its own and does no I/O, so it runs unchanged on real devices'
telemetry. See ``docs/telemetry.md`` for its input and ``engine.Detector``.
"""

from sim.detector.alerts import Alert, AlertKind, AlertUpdate, Category, Change, Reason, Severity
from sim.detector.cases import Case, CaseBook, Curfew, DeviceKind, FittedDevice, Zone
from sim.detector.engine import Detector
from sim.detector.policy import Policy
from sim.detector.state import DetectorStats
from sim.detector.telemetry import Kind, Telemetry

__all__ = [
    "Alert", "AlertKind", "AlertUpdate", "Case", "CaseBook", "Category", "Change", "Curfew", "Detector",
    "DetectorStats", "DeviceKind", "FittedDevice", "Kind", "Policy", "Reason", "Severity", "Telemetry", "Zone",
]
