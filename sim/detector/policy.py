"""Detector policies: every threshold a rule uses (``sim.policies`` reads them from
``seeds/policies/NAME.toml``; the detector itself reads no files).

One engine runs every policy; a policy only sets its numbers and which of the
engine's optional stages run (``sim.detector.context.Stages``).
``naive`` raises one alert per raw alarm event with no grace, confirmation,
inhibition or folding; ``reference``, today's centre, one alert per device alarm
episode, still with no grace, confirmation or inhibition; ``standard`` uses all.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    description: str
    # The tracking stage (``context.Stages``): each condition one alert from start to end,
    # folding repeated raw events into it, and lateness and missed curfews derived; off,
    # every raw alarm event is an alert of its own (``rules.raw``).
    track_conditions: bool
    # The inhibition stage (``sim.detector.inhibit``): symptoms of a known cause (mains
    # lost, reboot, area outage, a flat battery) filed as such.
    inhibit: bool
    curfew_grace_s: float
    lateness_warning_s: float
    lateness_escalation_s: float
    tamper_confirm_s: float
    # A tamper reported this soon after the tag came back in range was latched while it was
    # away: a report of something that happened, not a sensor that clears on its own.
    tamper_latched_window_s: float
    # Silences are judged in multiples of each device's own report interval (its status
    # check or upload cadence), so one threshold fits every supplier's configuration.
    no_contact_base_unit_intervals: float
    no_contact_gps_intervals: float
    no_contact_alcohol_intervals: float
    never_heard_intervals: float  # 0: the rule is off
    zone_use_accuracy: bool
    zone_consecutive_fixes: int
    # A zone alert stays open this long after a confirmed exit, so a re-entry folds into it.
    zone_exit_fold_s: float
    go_outside_s: float
    go_outside_grace_s: float
    charge_period_s: float  # a charge must be seen in each such period from midnight (a day); 0: the rule is off
    charge_min_s: float  # at least this long on charge seen in the period (each charging status stands for one report interval)
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
        for name in ("no_contact_base_unit_intervals", "no_contact_gps_intervals", "no_contact_alcohol_intervals"):
            if getattr(self, name) <= 1:
                raise ValueError(f"policy {self.name}: {name} = {getattr(self, name)} must be more than 1: "
                                 "a device reporting on time would look silent at every report")
        if 0 < self.never_heard_intervals <= 1:
            raise ValueError(f"policy {self.name}: never_heard_intervals = {self.never_heard_intervals} must be 0 (off) "
                             "or more than 1: a device's first report may come a whole interval after fitting")
