"""tagsim's figure for each published measure, from one policy's alerts.

The definitions follow the published ones (docs/scoring.md, "Calibration"):

- ``alerts_per_person_day``: every operator-facing alert (breach, equipment,
  unmonitored; not info) per subject-day, as a centre counts its alarms.
- ``false_share``: the share of those alerts with no genuine breach behind
  them: all but the breach alerts scored true.
- ``gps_mix.*``: the share of GPS tags' alerts in each of California's six
  categories, over those six (their published shares sum to 100%). A GPS case
  tamper raises no alert kind of its own here, so ``device_tamper`` is 0.

and, from the service behind them (``service_figures``):

- ``field.visits_per_subject_year``: every field visit made (each attempt at a door) per
  subject-year of the caseload.
- ``field.first_attempt_within_window_share`` and ``field.further_attempts_within_window_share``:
  the fittings' analogues of the published installation measures EMS SL004A and SL004B.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sim.detector.alerts import Alert, AlertKind, Category
from sim.detector.cases import DeviceKind
from sim.score import AlertVerdict

GPS_MIX: dict[str, tuple[AlertKind, ...]] = {
    "inclusion_zone": (AlertKind.INCLUSION_ZONE,),
    "strap_tamper": (AlertKind.GPS_STRAP,),
    "low_battery": (AlertKind.GPS_BATTERY_LOW,),
    "message_gap": (AlertKind.NO_CONTACT, AlertKind.NEVER_HEARD),
    "exclusion_zone": (AlertKind.EXCLUSION_ZONE,),
    "device_tamper": (),
}
SERVICE_MEASURES: tuple[str, ...] = ("field.visits_per_subject_year", "field.first_attempt_within_window_share",
                                     "field.further_attempts_within_window_share")
MEASURES: tuple[str, ...] = ("alerts_per_person_day", "false_share", *(f"gps_mix.{c}" for c in GPS_MIX), *SERVICE_MEASURES)
_MIX_OF = {kind: category for category, kinds in GPS_MIX.items() for kind in kinds}


def measures(
    alerts: Sequence[Alert], verdicts: Sequence[AlertVerdict], kind_of_device: Mapping[int, DeviceKind], subject_days: float,
) -> dict[str, float | None]:
    """Every measure for one policy's raised alerts (``verdicts`` in the same order, as the
    scorer returns them); None where its denominator is empty."""
    raised = [(a, v) for a, v in zip((a for a in alerts if a.raised_at is not None), verdicts, strict=True)]
    items = [(a, v) for a, v in raised if a.category is not Category.INFO]
    true = sum(v.verdict == "true" for _, v in items)
    out: dict[str, float | None] = {
        "alerts_per_person_day": len(items) / subject_days,
        "false_share": (len(items) - true) / len(items) if items else None,
    }
    mix = Counter(_MIX_OF[a.kind] for a, _ in items if kind_of_device.get(a.device) is DeviceKind.GPS_TAG and a.kind in _MIX_OF)
    total = sum(mix.values())
    for category in GPS_MIX:
        out[f"gps_mix.{category}"] = mix[category] / total if total else None
    return out


def service_figures(operations: Mapping[str, Any]) -> dict[str, float | None]:
    """The service's measures (``sim.operations.service.service_measures``) the published
    record has figures for."""
    field = operations["field"]
    return {"field.visits_per_subject_year": field["visits_per_subject_year"],
            "field.first_attempt_within_window_share": field["fitting"]["first_attempt_within_window_share"],
            "field.further_attempts_within_window_share": field["fitting"]["further_attempts_within_window_share"]}
