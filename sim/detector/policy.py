"""Detector policies: every threshold a rule uses (``sim.policies`` reads them from
``seeds/policies/NAME.toml``; the detector itself reads no files).

One engine runs every policy; a policy only sets its switches and numbers.
``naive`` raises one alert per raw alarm event with no grace, confirmation,
inhibition or folding, as the struggling centre does; ``standard`` uses all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    description: str
    # Track each condition as one alert from start to end, folding repeated raw
    # events into it, and derive lateness and missed curfews; off, every raw
    # alarm event is an alert of its own.
    track_conditions: bool
    # File symptoms of a known cause (mains lost, reboot, area outage) as equipment.
    inhibit: bool
    curfew_grace_s: float
    lateness_warning_s: float
    lateness_escalation_s: float
    tamper_confirm_s: float
    no_contact_base_unit_s: float
    no_contact_gps_s: float
    no_contact_alcohol_s: float
    never_heard_s: float  # 0: the rule is off
    zone_use_accuracy: bool
    zone_consecutive_fixes: int
    go_outside_s: float
    go_outside_grace_s: float
    charge_window_s: float  # 0: the rule is off
    alcohol_threshold_mg_dl: float
    alcohol_confirm_readings: int
    reboot_inhibit_s: float
    outage_min_units: int
    outage_window_s: float
    allowed_lateness_s: float

    def __post_init__(self) -> None:
        if self.zone_consecutive_fixes < 1 or self.alcohol_confirm_readings < 1:
            raise ValueError(f"policy {self.name}: consecutive fixes and readings must be at least 1")
        if self.lateness_escalation_s < self.lateness_warning_s:
            raise ValueError(f"policy {self.name}: lateness_escalation_s is below lateness_warning_s")
