"""Scoring the detector's alerts against the world's ground truth.

Every raised alert gets a verdict (a breach alert true or false, an equipment
alert real or unexplained, an unmonitored alert named a silent device or not)
and every truth interval gets one (a breach detected, missed, below threshold
or beyond the horizon; an unmonitored span named or not). The rules, and why
they are what they are, are in ``docs/scoring.md``; the figures are in
``seeds/scoring.toml``.

Matching is vectorised: intervals are sorted by (group, start) and each alert
is found by ``searchsorted``, so a million alerts against a million truth rows
takes seconds, not the hours an alerts x truth loop would.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from sim.cycles import without_cycle_collection
from sim.detector.alerts import Alert, AlertKind, Category
from sim.seeds import ParamsError, build, load_toml, seeds_dir
from sim.world.truth import TRUTH_DTYPE, TruthKind

RULES_FILE = "scoring.toml"

_FAMILY_ALERTS: dict[str, tuple[AlertKind, ...]] = {
    "curfew": (AlertKind.CURFEW_ABSENCE, AlertKind.CURFEW_MISSED, AlertKind.CURFEW_LATENESS, AlertKind.INCLUSION_ZONE),
    "tamper": (AlertKind.STRAP_TAMPER, AlertKind.BODY_TAMPER, AlertKind.GPS_STRAP, AlertKind.ALCOHOL_TAMPER),
    "exclusion": (AlertKind.EXCLUSION_ZONE,),
    "alcohol": (AlertKind.ALCOHOL,),
    "charging": (AlertKind.GPS_BATTERY_FLAT, AlertKind.NOT_CHARGING),
    # Nobody in this world shields a tag or moves a unit: these have no truth, so every one is false.
    "no-fix": (AlertKind.NO_FIX,),
    "unit-moved": (AlertKind.UNIT_MOVED,),
}
_FAMILY_TRUTH: dict[str, tuple[TruthKind, ...]] = {
    "curfew": (TruthKind.ABSENT_IN_CURFEW, TruthKind.OUT_OF_INCLUSION_ZONE),
    "tamper": (TruthKind.STRAP_TAMPERED,),
    "exclusion": (TruthKind.IN_EXCLUSION_ZONE,),
    "alcohol": (TruthKind.DRINKING,),
    "charging": (TruthKind.DEVICE_FLAT, TruthKind.CHARGE_MISSED),
    "no-fix": (),
    "unit-moved": (),
}
FAMILIES: tuple[str, ...] = tuple(_FAMILY_ALERTS)
_FAMILY_OF = {kind: family for family, kinds in _FAMILY_ALERTS.items() for kind in kinds}
_EQUIPMENT_TRUTH = (
    TruthKind.MAINS_LOST, TruthKind.CELLULAR_OUTAGE, TruthKind.DEVICE_FAULTY, TruthKind.DEVICE_FLAT, TruthKind.UNMONITORED,
)
_LABEL_OF_CODE = np.array([""] * 256, dtype=object)
_LABEL_OF_CODE[[int(k) for k in TruthKind]] = [k.label for k in TruthKind]


def family_of(kind: AlertKind) -> str | None:
    """The breach family an alert kind is scored in; None for equipment and unmonitored kinds."""
    return _FAMILY_OF.get(kind)


class ScoringRulesError(ParamsError):
    """The scoring rules file is wrong; the message names the file, the key and the problem.

    A ``ParamsError`` (so a ``ValueError``), so the CLI reports it as it does any bad seeds file.
    """


@dataclass(frozen=True)
class ScoringRules:
    """The conventions a score is made by; ``seeds/scoring.toml`` gives each one's reason."""

    tolerance_before_s: float
    tolerance_after_s: float
    horizon_s: float
    min_breach_s: Mapping[str, float]  # by family, for the families that have truth
    incident_window_s: float = 3600.0

    def __post_init__(self) -> None:
        # A copy the caller cannot change under a frozen instance.
        object.__setattr__(self, "min_breach_s", MappingProxyType(dict(self.min_breach_s)))
        want = {f for f in FAMILIES if _FAMILY_TRUTH[f]}
        if set(self.min_breach_s) != want:
            raise ValueError(f"min_breach_s must name exactly the families with truth: {', '.join(sorted(want))}")
        figures = {"tolerance_before_s": self.tolerance_before_s, "tolerance_after_s": self.tolerance_after_s,
                   "horizon_s": self.horizon_s, "incident_window_s": self.incident_window_s,
                   **{f"min_breach_s.{k}": v for k, v in self.min_breach_s.items()}}
        for name, value in figures.items():
            if value < 0:
                raise ValueError(f"{name}: must not be negative, got {value!r}")


# The file's shape, for ``build`` to check key by key; it becomes a ScoringRules.
@dataclass(frozen=True, slots=True)
class _MinBreach:
    curfew: float
    tamper: float
    exclusion: float
    alcohol: float
    charging: float


@dataclass(frozen=True, slots=True)
class _RulesFile:
    tolerance_before_s: float
    tolerance_after_s: float
    horizon_s: float
    incident_window_s: float
    min_breach_s: _MinBreach


def load_scoring_rules(path: Path | None = None) -> ScoringRules:
    """The scoring rules in ``path``, or the shipped ``seeds/scoring.toml``; every key is checked."""
    path = seeds_dir() / RULES_FILE if path is None else path
    try:
        raw = build(_RulesFile, load_toml(path), str(path))
    except ParamsError as exc:
        raise ScoringRulesError(str(exc)) from None
    minimums = {f.name: getattr(raw.min_breach_s, f.name) for f in dataclasses.fields(raw.min_breach_s)}
    return ScoringRules(raw.tolerance_before_s, raw.tolerance_after_s, raw.horizon_s, minimums, raw.incident_window_s)


@dataclass(frozen=True, slots=True)  # a run has a million of these
class AlertVerdict:
    alert_id: int
    subject: int
    device: int
    kind: str
    category: str
    family: str | None  # the breach family it was scored in; None unless its category is breach
    verdict: str  # "true" | "false" | "real" | "unexplained" | "named" | "unmatched"; "" for an info alert
    event_time: float
    raised_at: float
    truth_index: int  # the truth row it matched (an episode's first row), -1 if none


@dataclass(frozen=True, slots=True)  # a run has a million of these
class TruthVerdict:
    index: int
    subject: int
    device: int
    kind: str
    start: float
    end: float
    family: str | None
    verdict: str  # "detected" | "missed" | "below-threshold" | "beyond-horizon" | "named" | "unnamed" | ""
    latency_s: float | None  # a detection's latency, from its episode's start; an unmonitored span's time to name


@dataclass(frozen=True)
class FamilyScore:
    alerts: int
    true: int
    false: int
    breaches: int
    detected: int
    missed: int
    precision: float | None
    recall: float | None
    false_share: float | None
    alerts_per_subject_day: float
    false_per_1000_subject_days: float
    latency_median_s: float | None
    latency_p95_s: float | None
    latencies_s: tuple[float, ...]


@dataclass(frozen=True)
class EquipmentScore:
    alerts: int
    real: int
    unexplained: int


@dataclass(frozen=True)
class UnmonitoredScore:
    devices: int
    device_hours: float
    named: int  # devices with a named span
    hours_to_name_median: float | None
    hours_caught: float
    alerts: int
    alerts_true: int  # named a real span; the rest are false: the device was reporting, or silenced by something else


@dataclass(frozen=True)
class IncidentScore:
    """The breach alerts grouped into incidents (same subject, same family, overlapping or
    within the incident window of one another), and the haystack an operator faces."""

    incidents: int
    true: int  # incidents holding at least one true alert
    false: int
    precision: float | None
    # As per alert, by construction: a breach is detected when an alert matched it, and every
    # alert is in an incident. Given beside precision so the two read together.
    recall: float | None
    # From a breach's start to the first raise of the true incident that matched it.
    latency_median_s: float | None
    latency_p95_s: float | None
    redundant_alerts: int  # true alerts after the first of their incident: more items about a breach already put
    by_family: dict[str, dict[str, int]]  # family -> {"incidents", "true"}
    # Every operator-facing alert (breach, equipment, unmonitored; not info), and those grouped
    # into incidents the same way (equipment and unmonitored by category), per genuine breach:
    # the needle-in-a-haystack figure.
    items: int
    item_incidents: int
    items_per_genuine_breach: float | None
    item_incidents_per_genuine_breach: float | None


@dataclass(frozen=True)
class Scorecard:
    overall: FamilyScore
    by_family: dict[str, FamilyScore]
    equipment: EquipmentScore
    unmonitored: UnmonitoredScore
    incidents: IncidentScore
    alerts: list[AlertVerdict]
    truth: list[TruthVerdict]

    def to_dict(self) -> dict[str, Any]:
        """The scores as plain JSON-ready values; the per-alert, per-truth and per-breach lists are left out."""
        return {
            "overall": _plain(self.overall),
            "by_family": {name: _plain(s) for name, s in self.by_family.items()},
            "equipment": _plain(self.equipment),
            "unmonitored": _plain(self.unmonitored),
            "incidents": _plain(self.incidents),
        }


def _plain(score: FamilyScore | EquipmentScore | UnmonitoredScore | IncidentScore) -> dict[str, Any]:
    return {f.name: getattr(score, f.name) for f in dataclasses.fields(score) if f.name != "latencies_s"}


@without_cycle_collection()
def score(alerts: Sequence[Alert], truth: np.ndarray, end: float, subject_days: float, rules: ScoringRules) -> Scorecard:
    """Hold every raised alert against the truth of a run that ended at ``end``."""
    if subject_days <= 0:
        raise ValueError(f"subject_days must be positive, got {subject_days!r}")
    if truth.dtype != TRUTH_DTYPE:
        raise ValueError(f"truth must be a TRUTH_DTYPE array, got dtype {truth.dtype}")
    unknown = np.setdiff1d(np.unique(truth["kind"]), [int(k) for k in TruthKind])
    if len(unknown):
        raise ValueError(f"truth holds unknown kind {int(unknown[0])}")

    raised = [a for a in alerts if a.raised_at is not None]
    a = _alert_columns(raised, rules)
    n_alerts, n_truth = len(raised), len(truth)
    a_verdict = np.full(n_alerts, "", dtype=object)
    a_family = np.full(n_alerts, None, dtype=object)
    a_truth = np.full(n_alerts, -1, dtype=np.int64)
    t_verdict = np.full(n_truth, "", dtype=object)
    t_family = np.full(n_truth, None, dtype=object)
    t_latency = np.full(n_truth, np.nan)

    t_subject = truth["subject"].astype(np.int64)
    t_device = truth["device"].astype(np.int64)
    t_kind, t_start, t_end = truth["kind"], truth["start"], truth["end"]

    by_family: dict[str, FamilyScore] = {}
    for code, family in enumerate(FAMILIES):
        mine = np.flatnonzero(a.family == code)
        rows = np.flatnonzero(np.isin(t_kind, [int(k) for k in _FAMILY_TRUTH[family]]))
        ep = _episodes(t_subject[rows], t_start[rows], t_end[rows])
        first, last = _episode_range(ep, a.subject[mine], a.lo[mine], a.hi[mine])
        hit = first <= last
        a_verdict[mine] = np.where(hit, "true", "false")
        a_family[mine] = family
        a_truth[mine[hit]] = rows[ep.first_row[first[hit]]]

        # An alert may span several episodes: each one it overlaps is matched by it.
        spans = (last - first + 1)[hit]
        matched = np.repeat(first[hit], spans) + _ramps(spans)
        first_raise = np.full(len(ep.start), np.inf)
        np.minimum.at(first_raise, matched, np.repeat(a.raised_at[mine[hit]], spans))

        # Beyond the horizon comes first: an episode cut short by the run's end has no fair length either.
        beyond = ep.start > end - rules.horizon_s
        # Families without truth have no episodes, and no minimum in the rules.
        below = ~beyond & (ep.end - ep.start < rules.min_breach_s.get(family, 0.0))
        genuine = ~beyond & ~below
        detected = genuine & np.isfinite(first_raise)
        status = np.select([beyond, below, detected], ["beyond-horizon", "below-threshold", "detected"], "missed")
        latency = np.where(detected, first_raise - ep.start, np.nan)
        t_verdict[rows] = status[ep.of_row]
        t_family[rows] = family
        t_latency[rows] = latency[ep.of_row]
        by_family[family] = _family_score(
            len(mine), int(hit.sum()), int(genuine.sum()), int(detected.sum()), latency[detected], subject_days
        )

    equipment = _score_equipment(a, a_verdict, a_truth, t_subject, t_device, t_kind, t_start, t_end)
    unmonitored = _score_unmonitored(
        a, a_verdict, a_truth, t_subject, t_device, t_kind, t_start, t_end, t_verdict, t_latency, rules
    )

    alert_verdicts = list(map(
        AlertVerdict, a.id, a.subject.tolist(), a.device.tolist(), a.kind, _CATEGORY_NAME[a.category].tolist(),
        a_family.tolist(), a_verdict.tolist(), a.event_time.tolist(), a.raised_at.tolist(), a_truth.tolist(),
    ))
    latency = t_latency.astype(object)
    latency[np.isnan(t_latency)] = None
    truth_verdicts = list(map(
        TruthVerdict, range(n_truth), truth["subject"].tolist(), truth["device"].tolist(),
        _LABEL_OF_CODE[t_kind].tolist(), t_start.tolist(), t_end.tolist(), t_family.tolist(), t_verdict.tolist(),
        latency.tolist(),
    ))
    overall = _family_score(
        sum(s.alerts for s in by_family.values()), sum(s.true for s in by_family.values()),
        sum(s.breaches for s in by_family.values()), sum(s.detected for s in by_family.values()),
        np.array([x for s in by_family.values() for x in s.latencies_s]), subject_days,
    )
    incidents = _score_incidents(a, a_verdict == "true", a_truth, t_start, overall, rules)
    return Scorecard(overall, by_family, equipment, unmonitored, incidents, alert_verdicts, truth_verdicts)


_CATEGORY_CODE = {Category.BREACH: 0, Category.EQUIPMENT: 1, Category.UNMONITORED: 2, Category.INFO: 3}
_BREACH, _EQUIPMENT, _UNMONITORED = 0, 1, 2
_CATEGORY_NAME = np.array([c.value for c in _CATEGORY_CODE], dtype=object)
_FAMILY_CODE = {kind: FAMILIES.index(family) for kind, family in _FAMILY_OF.items()}
_KIND_NAME = {kind: kind.value for kind in AlertKind}
# Read in C (attrgetter, map), not by Python attribute access: a run raises a million alerts.
_COLUMNS = attrgetter("id", "subject", "device", "kind", "category", "event_time", "raised_at", "event_end")


@dataclass(frozen=True, slots=True)
class _Alerts:
    """The raised alerts as columns."""

    id: list[int]
    kind: list[str]
    category: np.ndarray  # _CATEGORY_CODE
    family: np.ndarray  # index in FAMILIES when scored as a breach, else -1
    subject: np.ndarray
    device: np.ndarray
    event_time: np.ndarray
    raised_at: np.ndarray
    lo: np.ndarray  # the window the alert is matched over
    hi: np.ndarray


def _alert_columns(raised: list[Alert], rules: ScoringRules) -> _Alerts:
    columns = list(zip(*map(_COLUMNS, raised))) or [()] * 8
    ids, subject, device, kind, category, event_time, raised_at, event_end = columns
    # Enum's own hash is Python code; comparing a whole object array with each member is C.
    category_of = np.array(category, dtype=object)
    category_code = np.full(len(raised), -1, dtype=np.int8)
    for member, code in _CATEGORY_CODE.items():
        category_code[category_of == member] = code
    family = np.fromiter(map(_FAMILY_CODE.get, kind, itertools.repeat(-1)), np.int64, len(raised))
    orphans = np.flatnonzero((category_code == _BREACH) & (family < 0))
    if len(orphans):
        # A new breach kind must be given a family, not dropped from the score unseen.
        raise ValueError(f"breach alert kind {kind[orphans[0]].value!r} belongs to no scoring family")
    raised_s = np.array(raised_at, dtype=float)
    ended = np.array(event_end, dtype=float)  # None (still open) becomes NaN
    # An alert still open has no end yet: the latest the centre knew of it is when it was raised.
    until = np.where(np.isnan(ended), raised_s, ended)
    event_s = np.array(event_time, dtype=float)
    return _Alerts(
        id=list(ids),
        kind=list(map(_KIND_NAME.__getitem__, kind)),
        category=category_code,
        family=np.where(category_code == _BREACH, family, -1),
        subject=np.array(subject, dtype=np.int64),
        device=np.array(device, dtype=np.int64),
        event_time=event_s,
        raised_at=raised_s,
        lo=event_s - rules.tolerance_before_s,
        hi=until + rules.tolerance_after_s,
    )


def _family_score(
    alerts: int, true: int, breaches: int, detected: int, latencies: np.ndarray, subject_days: float
) -> FamilyScore:
    false = alerts - true
    return FamilyScore(
        alerts=alerts,
        true=true,
        false=false,
        breaches=breaches,
        detected=detected,
        missed=breaches - detected,
        precision=true / alerts if alerts else None,
        recall=detected / breaches if breaches else None,
        false_share=false / alerts if alerts else None,
        alerts_per_subject_day=alerts / subject_days,
        false_per_1000_subject_days=false * 1000.0 / subject_days,
        latency_median_s=float(np.median(latencies)) if len(latencies) else None,
        latency_p95_s=float(np.percentile(latencies, 95)) if len(latencies) else None,
        latencies_s=tuple(latencies.tolist()),
    )


def _score_equipment(
    a: _Alerts, a_verdict: np.ndarray, a_truth: np.ndarray, t_subject: np.ndarray, t_device: np.ndarray,
    t_kind: np.ndarray, t_start: np.ndarray, t_end: np.ndarray,
) -> EquipmentScore:
    mine = np.flatnonzero(a.category == _EQUIPMENT)
    rows = np.flatnonzero(np.isin(t_kind, [int(k) for k in _EQUIPMENT_TRUTH]))
    group = _pair(t_subject[rows], t_device[rows])
    subject, lo, hi = a.subject[mine], a.lo[mine], a.hi[mine]
    # A cause on the alert's own device first; else one about the whole subject (device 0).
    on_device = _overlap_any(group, t_start[rows], t_end[rows], _pair(subject, a.device[mine]), lo, hi)
    on_subject = _overlap_any(group, t_start[rows], t_end[rows], _pair(subject, np.zeros_like(subject)), lo, hi)
    found = np.where(on_device >= 0, on_device, on_subject)
    real = found >= 0
    a_verdict[mine] = np.where(real, "real", "unexplained")
    a_truth[mine[real]] = rows[found[real]]
    return EquipmentScore(alerts=len(mine), real=int(real.sum()), unexplained=len(mine) - int(real.sum()))


def _score_unmonitored(
    a: _Alerts, a_verdict: np.ndarray, a_truth: np.ndarray, t_subject: np.ndarray, t_device: np.ndarray,
    t_kind: np.ndarray, t_start: np.ndarray, t_end: np.ndarray, t_verdict: np.ndarray, t_latency: np.ndarray,
    rules: ScoringRules,
) -> UnmonitoredScore:
    mine = np.flatnonzero(a.category == _UNMONITORED)
    rows = np.flatnonzero(t_kind == TruthKind.UNMONITORED)
    group, start = _pair(t_subject[rows], t_device[rows]), t_start[rows]
    # Named when raised on that device inside the span, or up to tolerance_after_s past its end.
    stop = t_end[rows] + rules.tolerance_after_s
    a_group, raised_at = _pair(a.subject[mine], a.device[mine]), a.raised_at[mine]
    found = _overlap_any(group, start, stop, a_group, raised_at, raised_at)
    named_by = found >= 0
    a_verdict[mine] = np.where(named_by, "named", "unmatched")
    a_truth[mine[named_by]] = rows[found[named_by]]

    first = _first_within(a_group, raised_at, group, start, stop)
    named = first >= 0
    first_named = raised_at[first[named]]
    to_name = first_named - start[named]
    t_verdict[rows] = np.where(named, "named", "unnamed")
    t_latency[rows[named]] = to_name
    # Naming a span after it ended caught none of it: those count 0 hours, not negative ones.
    caught = np.maximum(t_end[rows][named] - first_named, 0.0)
    return UnmonitoredScore(
        devices=len(np.unique(group)),
        device_hours=float((t_end[rows] - t_start[rows]).sum() / 3600.0),
        named=len(np.unique(group[named])),
        hours_to_name_median=float(np.median(to_name) / 3600.0) if len(to_name) else None,
        hours_caught=float(caught.sum() / 3600.0),
        alerts=len(mine),
        alerts_true=int(named_by.sum()),
    )


def incident_keys(alerts: Sequence[Alert]) -> np.ndarray:
    """Which incident an operator sees each alert as part of: its subject and its breach family,
    or, for equipment and unmonitored alerts, its subject and category (one int each)."""
    category = np.array([_CATEGORY_CODE[a.category] for a in alerts], dtype=np.int64)
    family = np.array([_FAMILY_CODE.get(a.kind, -1) for a in alerts], dtype=np.int64)
    return _incident_key(np.array([a.subject for a in alerts], dtype=np.int64), category, family)


def _incident_key(subject: np.ndarray, category: np.ndarray, family: np.ndarray) -> np.ndarray:
    group = np.where(category == _BREACH, family, 16 + category.astype(np.int64))
    return (subject.astype(np.int64) << 8) | group


def incident_of(key: np.ndarray, start: np.ndarray, stop: np.ndarray, window_s: float) -> np.ndarray:
    """Each alert's incident number (0, 1, ...): alerts of the same ``key`` chained together
    when one starts no later than ``window_s`` after the latest end of those before it."""
    if len(key) == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((start, key))
    k, s, e = key[order], start[order], stop[order]
    new_key = np.concatenate(([True], k[1:] != k[:-1]))
    # The running latest end, restarted at each key: each key's ends are lifted above every
    # earlier key's, so one cumulative maximum serves them all.
    segment = np.cumsum(new_key) - 1
    lift = float(e.max() - e.min()) + 1.0
    latest = np.maximum.accumulate(e + segment * lift) - segment * lift
    new = new_key.copy()
    new[1:] |= s[1:] > latest[:-1] + window_s
    incident = np.empty(len(key), dtype=np.int64)
    incident[order] = np.cumsum(new) - 1
    return incident


def _score_incidents(
    a: _Alerts, true: np.ndarray, a_truth: np.ndarray, t_start: np.ndarray, overall: FamilyScore, rules: ScoringRules,
) -> IncidentScore:
    start, stop = a.event_time, a.hi - rules.tolerance_after_s  # the alert's own span
    breach = np.flatnonzero(a.category == _BREACH)
    key = (a.subject[breach].astype(np.int64) << 8) | a.family[breach]
    incident = incident_of(key, start[breach], stop[breach], rules.incident_window_s)
    n = int(incident.max()) + 1 if len(incident) else 0
    true_here = true[breach]
    true_alerts = np.bincount(incident, weights=true_here, minlength=n)
    is_true = true_alerts > 0
    # Latency: the first raise of a true incident's true alerts, from the earliest breach they matched.
    t_in = incident[true_here]
    first_raise = np.full(n, np.inf)
    np.minimum.at(first_raise, t_in, a.raised_at[breach][true_here])
    began = np.full(n, np.inf)
    np.minimum.at(began, t_in, t_start[a_truth[breach][true_here]])
    latency = first_raise[is_true] - began[is_true]
    family_of_incident = np.zeros(n, dtype=np.int64)
    family_of_incident[incident] = a.family[breach]
    by_family = {
        family: {"incidents": int((family_of_incident == code).sum()), "true": int((is_true & (family_of_incident == code)).sum())}
        for code, family in enumerate(FAMILIES)
    }
    items = np.flatnonzero(a.category != _CATEGORY_CODE[Category.INFO])
    item_incidents = len(np.unique(incident_of(
        _incident_key(a.subject[items], a.category[items], a.family[items]), start[items], stop[items],
        rules.incident_window_s,
    )))
    genuine = overall.breaches
    return IncidentScore(
        incidents=n,
        true=int(is_true.sum()),
        false=n - int(is_true.sum()),
        precision=float(is_true.sum() / n) if n else None,
        recall=overall.recall,
        latency_median_s=float(np.median(latency)) if len(latency) else None,
        latency_p95_s=float(np.percentile(latency, 95)) if len(latency) else None,
        redundant_alerts=int(true_here.sum()) - int(is_true.sum()),
        by_family=by_family,
        items=len(items),
        item_incidents=item_incidents,
        items_per_genuine_breach=len(items) / genuine if genuine else None,
        item_incidents_per_genuine_breach=item_incidents / genuine if genuine else None,
    )


@dataclass(frozen=True, slots=True)
class _Episodes:
    """A family's truth merged per subject, sorted by (subject, start); disjoint and not touching."""

    subject: np.ndarray
    start: np.ndarray
    end: np.ndarray
    first_row: np.ndarray  # position (in the rows given) of the row that begins each episode
    of_row: np.ndarray  # each given row's episode


def _episodes(subject: np.ndarray, start: np.ndarray, end: np.ndarray) -> _Episodes:
    order = np.lexsort((start, subject))  # stable: equal starts keep row order
    s_start, s_end = _keys([subject[order], subject[order]], [start[order], end[order]])
    # Keys order by subject first, so a running maximum never carries one subject's end into the next.
    reach = np.maximum.accumulate(s_end)
    begins = np.ones(len(order), dtype=bool)
    begins[1:] = s_start[1:] > reach[:-1]
    heads = np.flatnonzero(begins)
    of_sorted = np.cumsum(begins) - 1
    of_row = np.empty(len(order), dtype=np.int64)
    of_row[order] = of_sorted
    ep_end = np.maximum.reduceat(end[order], heads) if len(heads) else np.empty(0)
    return _Episodes(subject[order][heads], start[order][heads], ep_end, order[heads], of_row)


def _episode_range(ep: _Episodes, subject: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each window [lo, hi], the first and last episode of its subject it overlaps (first > last: none).

    Within a subject episodes are disjoint, so their ends are as sorted as their starts and both
    bounds are one searchsorted each; a window touching an episode's edge overlaps it.
    """
    k_end, k_start, k_lo, k_hi = _keys([ep.subject, ep.subject, subject, subject], [ep.end, ep.start, lo, hi])
    first = np.searchsorted(k_end, k_lo, side="left")
    last = np.searchsorted(k_start, k_hi, side="right") - 1
    return first, last


def _overlap_any(
    group: np.ndarray, start: np.ndarray, end: np.ndarray, q_group: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """For each query window [lo, hi], a row of its group whose [start, end] overlaps it, or -1.

    The rows may overlap each other (an outage during a mains cut), so they are not merged:
    among the rows of the group starting by ``hi``, the one reaching furthest overlaps if any does.
    """
    if not len(group) or not len(q_group):
        return np.full(len(q_group), -1, dtype=np.int64)
    order = np.lexsort((start, group))
    k_start, k_end, k_lo, k_hi = _keys(
        [group[order], group[order], q_group, q_group], [start[order], end[order], lo, hi]
    )
    reach = np.maximum.accumulate(k_end)
    # The latest row to set the running maximum is the one that reaches furthest.
    reacher = np.maximum.accumulate(np.where(k_end == reach, np.arange(len(order)), 0))
    j = np.searchsorted(k_start, k_hi, side="right") - 1
    jc = np.maximum(j, 0)
    # An earlier group's reach keys below any key of this group, so it can never pass for an overlap.
    hit = (j >= 0) & (reach[jc] >= k_lo)
    return np.where(hit, order[reacher[jc]], -1)


def _first_within(
    group: np.ndarray, time: np.ndarray, q_group: np.ndarray, lo: np.ndarray, hi: np.ndarray
) -> np.ndarray:
    """For each query, the earliest item of its group with a time in [lo, hi], or -1."""
    if not len(group) or not len(q_group):
        return np.full(len(q_group), -1, dtype=np.int64)
    order = np.lexsort((time, group))
    k_item, k_lo, k_hi = _keys([group[order], q_group, q_group], [time[order], lo, hi])
    i = np.searchsorted(k_item, k_lo, side="left")
    ic = np.minimum(i, len(order) - 1)
    # A key past hi is a later time, or another group altogether.
    return np.where((i < len(order)) & (k_item[ic] <= k_hi), order[ic], -1)


def _keys(groups: list[np.ndarray], times: list[np.ndarray]) -> list[np.ndarray]:
    """Exact int64 keys ordering (group, time) pairs lexicographically across all the arrays given.

    Group and time are each replaced by their rank among all values, so no float rounding can
    make two touching intervals look apart.
    """
    sizes = np.cumsum([len(g) for g in groups])[:-1]
    _, g_rank = np.unique(np.concatenate(groups), return_inverse=True)
    t_values, t_rank = np.unique(np.concatenate(times), return_inverse=True)
    keys = g_rank.astype(np.int64) * max(len(t_values), 1) + t_rank
    return np.split(keys, sizes)


def _pair(subject: np.ndarray, device: np.ndarray) -> np.ndarray:
    """(subject, device) as one sortable integer; both are u4 in the truth, so they fit side by side."""
    return (subject.astype(np.uint64) << np.uint64(32)) | device.astype(np.uint64)


def _ramps(lengths: np.ndarray) -> np.ndarray:
    """0, 1, ..., n-1 for each n in ``lengths``, concatenated."""
    total = int(lengths.sum())
    return np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
