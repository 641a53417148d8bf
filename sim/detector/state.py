"""What the detector knows of each subject and device between records, and its counts."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from sim.detector.cases import Case, FittedDevice
from sim.detector.sequence import SequenceWindow


@dataclass
class DetectorStats:
    records: int = 0
    duplicates: int = 0
    late: int = 0  # more than the allowed lateness behind the subject's newest record
    # Older than the newest record its rule had applied, among those a rule keeps a history
    # for (presence records, alcohol readings, GPS uploads with a fix on the wrong side):
    # merged into it (a breach it reveals is raised late), or, beyond the allowed lateness, not.
    merged_late: int = 0
    unmerged_late: int = 0
    unknown_device: int = 0  # from a device no case names
    fixes: int = 0


@dataclass(slots=True)
class SubjectState:
    case: Case
    newest_event: float = -math.inf  # the event-time watermark is this less the allowed lateness


@dataclass(slots=True)
class DeviceState:
    fitted: FittedDevice
    case: Case
    subject: SubjectState
    silent_after: float | None  # the no-contact threshold for its kind; None: not heard directly
    last_heard: float | None = None  # receive time
    silence_armed: bool = False
    window: SequenceWindow = field(default_factory=SequenceWindow)
    on_backup: bool = False  # as the newest record says
    power_known_at: float = -math.inf  # event time of the record ``on_backup`` came from
    # (event time, on backup) at each change, in time order: what the power was at any moment.
    power_changes: list[tuple[float, bool]] = field(default_factory=list)
    rebooted_at: float = -math.inf
    battery_low: bool = False
    silence_alert: bool = False  # a no-contact kind of alert is open for this device

    def on_backup_at(self, t: float) -> bool:
        i = bisect.bisect_right(self.power_changes, (t, True)) - 1
        return self.power_changes[i][1] if i >= 0 else False
