"""What a rule sees of the detector: a narrow context, not the engine.

The engine builds one ``RuleContext`` and hands it to every rule. It carries the
policy's numbers, the alert book, the timers, processing time (the engine moves
``now`` on), the counts the rules add to, the subjects and devices, the
inhibition stage, and the two calls one rule makes of another: the curfew
rule's presence, and the base-unit rule's view of each unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from sim.detector.alerts import AlertBook, AlertKey, AlertKind
from sim.detector.inhibit import Inhibitor
from sim.detector.policy import Policy
from sim.detector.state import DetectorStats, DeviceState, SubjectState
from sim.detector.telemetry import Telemetry
from sim.detector.timers import Timers


@dataclass(frozen=True, slots=True)
class Stages:
    """The stages an alert passes that a policy may switch off (each record passes admission
    first: duplicates, the watermark, contact). Off, ``track`` makes every raw alarm event an
    alert of its own: no alert is kept open, so nothing is folded, held in grace, confirmed,
    or summed into lateness; off, ``inhibit`` leaves every symptom of a known cause as it is."""

    track: bool
    inhibit: bool

    @classmethod
    def of(cls, policy: Policy) -> Stages:
        return cls(track=policy.track_conditions, inhibit=policy.inhibit)


class Presence(Protocol):
    """What the curfew rule knows of presence, for the base-unit rule."""

    def away_during(self, subject: int, start: float, end: float) -> float | None: ...

    def unit_reported(self, unit: DeviceState) -> None: ...


class BaseUnits(Protocol):
    """What the base-unit rule does for the curfew rule."""

    def observe(self, unit: DeviceState, r: Telemetry, on_backup: bool | None = None) -> None: ...

    def absence_revealed(self, subject: int, away: float, back: float) -> None: ...


class RuleContext:
    __slots__ = ("policy", "book", "timers", "stats", "now", "subjects", "devices", "inhibitor", "presence",
                 "base_units", "_track")

    def __init__(
        self, policy: Policy, stages: Stages, now: float, subjects: dict[int, SubjectState],
        devices: dict[int, DeviceState], book: AlertBook, inhibitor: Inhibitor,
    ) -> None:
        self.policy = policy
        self.book = book
        self.timers = Timers()
        self.stats = DetectorStats()
        self.now = now  # processing time: the receive time of the record being processed
        self.subjects = subjects
        self.devices = devices
        self.inhibitor = inhibitor
        self._track = stages.track
        # Wired by the engine once the rules exist (each rule is the other's).
        self.presence: Presence
        self.base_units: BaseUnits

    def key(self, subject: int, kind: AlertKind, scope: int = 0) -> AlertKey | None:
        """Where a condition's alert is kept open; None with the tracking stage off, so that
        the alert is one raw event, closed as it is raised."""
        return (subject, kind, scope) if self._track else None
