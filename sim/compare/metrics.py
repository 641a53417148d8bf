"""What a buyer compares suppliers on: each metric's name, what it means, its unit, which way
is better, and how it is read from one run's results dict (``docs/results.md``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

LOWER, HIGHER = "lower", "higher"


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    unit: str
    better: str  # LOWER or HIGHER
    read: Callable[[dict[str, Any], str], float | None]  # (results, policy) -> value, None if undefined


def _policy(results: dict[str, Any], policy: str) -> dict[str, Any]:
    return results["policies"][policy]


def _calibrated(results: dict[str, Any], policy: str, measure: str) -> float | None:
    figure = next(f for f in results["calibration"]["figures"] if f["measure"] == measure)
    value: float | None = figure["tagsim"][policy]
    return value


def _centre(results: dict[str, Any], policy: str) -> dict[str, Any]:
    return _policy(results, policy)["operations"]["centre"]


def _field(results: dict[str, Any], policy: str) -> dict[str, Any]:
    return _policy(results, policy)["operations"]["field"]


METRICS: tuple[Metric, ...] = (
    Metric("alerts_per_subject_day", "alerts a subject-day", "alerts", LOWER,
           lambda r, p: _calibrated(r, p, "alerts_per_person_day")),
    Metric("false_per_1000_subject_days", "false alerts per 1,000 subject-days", "alerts", LOWER,
           lambda r, p: _policy(r, p)["scorecard"]["overall"]["false_per_1000_subject_days"]),
    Metric("recall", "recall", "share", HIGHER, lambda r, p: _policy(r, p)["scorecard"]["overall"]["recall"]),
    Metric("incident_latency_p95_s", "incident latency p95", "s", LOWER,
           lambda r, p: _policy(r, p)["scorecard"]["incidents"]["latency_p95_s"]),
    Metric("unmonitored_device_hours", "unmonitored device-hours", "h", LOWER,
           lambda r, p: _policy(r, p)["scorecard"]["unmonitored"]["device_hours"]),
    Metric("unmonitored_hours_to_name", "hours to name a silent device (median)", "h", LOWER,
           lambda r, p: _policy(r, p)["scorecard"]["unmonitored"]["hours_to_name_median"]),
    Metric("breach_time_to_action_p95_s", "breach time to action p95", "s", LOWER,
           lambda r, p: _centre(r, p)["classes"]["breach"]["time_to_action_p95_s"]),
    Metric("breach_within_deadline", "breach alerts taken up within deadline", "share", HIGHER,
           lambda r, p: _centre(r, p)["classes"]["breach"]["within_deadline_share"]),
    Metric("operator_hours_a_day", "operator-hours of work a day", "h", LOWER,
           lambda r, p: _centre(r, p)["work_hours_a_day"]),
    Metric("officer_hours_a_day", "field officer-hours of work a day", "h", LOWER,
           lambda r, p: _field(r, p)["work_hours_a_day"]),
)
STAFF_METRICS: tuple[Metric, ...] = (
    Metric("operators_needed", "operators needed, all shifts", "staff", LOWER, lambda r, p: r["staff"][p]["operators"]),
    Metric("field_officers_needed", "field officers needed, all shifts", "staff", LOWER,
           lambda r, p: r["staff"][p]["field_officers"]),
)
