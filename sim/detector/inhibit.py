"""Inhibition: the symptoms of a known cause filed as equipment, naming the cause.

In the manner of Alertmanager's inhibition rules, each rule is data: a source
condition, the alert kinds it explains, and what must match between them (the
same device, or the same area) and for how long. A rule's effect is to file
the target as equipment with the cause on it, or, where the cause makes the
symptom a thing of its own, to raise another kind in its place. Causes are
typed; their text, on the alert and in its decision, is rendered from them.

A policy that does not inhibit gets an ``Inhibitor`` with no rules: it
explains nothing, and the rules that ask it need not know the policy.

Only the causes below explain anything. Mains loss does not explain a leave: a
unit on its backup battery still hears the tag, so the leave it reports is real,
and "unplug the unit and go out" is the breach an inhibition would hide.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from sim.detector.alerts import Alert, AlertBook, AlertKind, Category, Cause, CauseKind, Reason
from sim.detector.cases import DeviceKind
from sim.detector.policy import Policy
from sim.detector.state import DeviceState


class Match(Enum):
    SAME_DEVICE = "same-device"  # the source is the target's own device
    SAME_AREA = "same-area"  # the sources are enough devices of the target's area


@dataclass(frozen=True, slots=True)
class Inhibition:
    """Alerts of the ``targets`` kinds are explained by ``source`` where ``match`` holds between them."""

    source: CauseKind
    targets: frozenset[AlertKind]
    match: Match
    within: str | None  # the Policy field: how long the source explains targets for; None: while it lasts
    instead: AlertKind | None = None


_ABSENCE = frozenset({AlertKind.CURFEW_ABSENCE, AlertKind.CURFEW_MISSED, AlertKind.CURFEW_LATENESS})
_SILENCE = frozenset({AlertKind.NO_CONTACT})

# In order of precedence: the first whose source holds names the cause.
INHIBITIONS: tuple[Inhibition, ...] = (
    # An absence beginning within the window after its unit rebooted (at the absence's event time).
    Inhibition(CauseKind.UNIT_REBOOTED, _ABSENCE, Match.SAME_DEVICE, "reboot_inhibit_s"),
    # A GPS tag silent after reporting a low battery has gone flat: a potential breach of its own.
    Inhibition(CauseKind.BATTERY_LOW, _SILENCE, Match.SAME_DEVICE, None, instead=AlertKind.GPS_BATTERY_FLAT),
    Inhibition(CauseKind.MAINS_LOST, _SILENCE, Match.SAME_DEVICE, None),
    # ``outage_min_units`` silences in one area within the window, this one among them.
    Inhibition(CauseKind.CELLULAR_OUTAGE, _SILENCE, Match.SAME_AREA, "outage_window_s"),
)

# Whether a same-device source holds for a target that began at ``t``, given its rule's window.
_HOLDS: dict[CauseKind, Callable[[DeviceState, float, float], bool]] = {
    CauseKind.UNIT_REBOOTED: lambda device, t, within: 0 <= t - device.rebooted_at <= within,
    CauseKind.MAINS_LOST: lambda device, t, within: device.on_backup,
    CauseKind.BATTERY_LOW: lambda device, t, within: device.fitted.kind is DeviceKind.GPS_TAG and device.battery_low,
}


class Inhibitor:
    """The inhibition stage: the rules a policy switches on, applied when a rule asks."""

    def __init__(self, policy: Policy, book: AlertBook, rules: tuple[Inhibition, ...]) -> None:
        self._book = book
        self._min_units = policy.outage_min_units
        self._rules = [(rule, getattr(policy, rule.within) if rule.within else 0.0) for rule in rules]
        self._silences: dict[int, deque[tuple[float, DeviceState]]] = {}  # area -> recent silences

    def explain(self, target: AlertKind, device: DeviceState, event_time: float) -> Cause | None:
        """The cause that explains an alert of kind ``target`` at ``device`` whose condition
        began at ``event_time``, as the device's state says: the first rule whose source holds."""
        for rule, within in self._rules:
            if rule.match is Match.SAME_DEVICE and target in rule.targets and _HOLDS[rule.source](device, event_time, within):
                return Cause(rule.source, device=device.fitted.device)
        return None

    def instead(self, cause: Cause | None) -> AlertKind | None:
        """The kind raised in place of the target that ``cause`` explains, if its rule replaces it."""
        if cause is None:
            return None
        return next(rule.instead for rule, _ in self._rules if rule.source is cause.kind)

    def file(self, alert: Alert, at: float, cause: Cause) -> None:
        """File a raised ``alert`` as equipment, explained by ``cause``."""
        alert.category = Category.EQUIPMENT
        alert.cause = cause
        self._book.note(alert, at, Reason.INHIBITED, str(cause))

    def file_before_raising(self, alert: Alert, at: float, cause: Cause) -> None:
        """File ``alert``, not yet raised, as equipment explained by ``cause``."""
        alert.category = Category.EQUIPMENT
        alert.cause = cause
        alert.decide(at, Reason.INHIBITED, str(cause))

    def silenced(self, device: DeviceState, alert: Alert, at: float) -> None:
        """``alert`` was raised at ``at`` for a silence that nothing at ``device`` explains:
        one of a group of silences in its area, it and the group's others still open and
        unexplained are filed as an outage."""
        for rule, window in self._rules:
            if rule.match is Match.SAME_AREA and alert.kind in rule.targets:
                self._area(rule, window, device, at)

    def _area(self, rule: Inhibition, window: float, device: DeviceState, at: float) -> None:
        area = device.fitted.area
        silences = self._silences.setdefault(area, deque())
        # A unit silent twice within the window is one unit, not two.
        remaining = [(t, d) for t, d in silences if d is not device]
        if len(remaining) != len(silences):
            silences.clear()
            silences.extend(remaining)
        silences.append((at, device))
        while silences and silences[0][0] < at - window:
            silences.popleft()
        if len(silences) < self._min_units:
            return
        cause = Cause(rule.source, area=area, units=len(silences), window_s=window)
        for _, silent in silences:
            for kind in rule.targets:
                open_alert = self._book.open.get((silent.case.subject, kind, silent.fitted.device))
                if open_alert is not None and open_alert.cause is None:
                    self.file(open_alert, at, cause)
