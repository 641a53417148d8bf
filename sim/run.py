"""The product's main job: one simulated run, every policy's alerts, each scored against the truth.

The pipeline (``sim.pipeline``) simulates the world once, streams its telemetry
a span of receive time at a time and feeds each span to one detector per
policy. When the telemetry has all arrived, each detector's alerts are
scored against the world's truth (``sim.score``, ``docs/scoring.md``) and the
whole run becomes the versioned results dict (``docs/results.md``) that
``results.json`` and ``report.html`` are made of.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

import numpy as np

from sim.cycles import without_cycle_collection
from sim.calibration.measures import measures, service_figures
from sim.calibration.published import load_calibration
from sim.calibration.table import calibration_rows
from sim.detector.alerts import Alert, Category
from sim.detector.policy import Policy
from sim.detector.state import DetectorStats
from sim.operations.centre.arrivals import CentreArrivals, centre_arrivals
from sim.operations.centre.params import CentreParams, load_centre
from sim.operations.field.params import FieldParams, load_field
from sim.operations.export import write_service_csvs
from sim.operations.service import Caseload, ServiceRun, check_visits, run_service, service_measures
from sim.operations.staffing import ServiceStaffing
from sim.pipeline.checkpoint import Checkpoint
from sim.pipeline.detect import detect
from sim.pipeline.pool import LocalPool, Pool
from sim.pipeline.world_stream import WorldSummary, simulate_stream
from sim.scenario import Scenario, Supplier
from sim.score import ScoringRules, Scorecard, score
from sim.world.draws import DAY_S
from sim.world.streams import Branch, Streams
from sim.world.truth import TruthKind

SCHEMA = "tagsim-results"
SCHEMA_VERSION = 2
COMPARED = ("alerts_per_subject_day", "false_share", "precision", "recall", "latency_median_s")


@dataclass
class PolicyRun:
    policy: Policy
    alerts: list[Alert]
    scorecard: Scorecard
    wall_s: float
    watched_until: float  # the detector's processing time when the run ended: the world's end
    stats: DetectorStats
    arrivals: CentreArrivals  # the operator-facing alerts as the centre received them
    service: ServiceRun  # the monitoring centre and the field force behind them
    operations: dict  # their measures (sim.operations.service.service_measures)


@dataclass
class RunResult:
    scenario: Scenario
    supplier: Supplier
    world: WorldSummary
    policies: dict[str, PolicyRun]
    workers: int
    started_utc: str
    wall_s: dict[str, float]
    field: FieldParams  # the field force's parameters, which its CSV names jobs by


@dataclass(frozen=True)
class Progress:
    """What a long run reports as it goes: the world's share of subjects simulated, then the
    simulated time the detectors have taken in."""

    world: Callable[[float], None]
    detected: Callable[[float, float], None]  # (simulated seconds done, in all)


@without_cycle_collection()
def run(scenario: Scenario, supplier: Supplier, policies: list[Policy], rules: ScoringRules, workers: int = 1,
        progress: Progress | None = None, centre: CentreParams | None = None,
        field: FieldParams | None = None, pool: Pool | None = None, checkpoint: Checkpoint | None = None) -> RunResult:
    """Simulate ``scenario`` once, detect with every policy on the same telemetry, score each,
    and put each policy's alerts to the monitoring centre and its visits to the field force
    (``centre`` and ``field``, default the shipped ``seeds/operations/``). The world's blocks and
    the policies' detection run on ``pool`` (default a local pool of ``workers``); the results do
    not depend on it, nor on whether detection was saved to a ``checkpoint`` or resumed from
    one (``sim.pipeline.checkpoint``). (Millions of records and alerts and no cycles among them:
    the cycle collector is paused.)"""
    centre = centre or load_centre()
    field = field or load_field()
    check_visits(centre, field)
    pool = pool or LocalPool(workers)
    started_utc = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    t0 = time.perf_counter()
    world, spans = simulate_stream(scenario, supplier, progress=progress.world if progress else None, pool=pool)
    t_world = time.perf_counter()
    detected = detect(world, spans, policies, progress.detected if progress else None, pool=pool, checkpoint=checkpoint)
    t_detect = time.perf_counter()
    subject_days = scenario.subjects * scenario.days
    cards = {name: score(d.alerts, world.truth, world.end, subject_days, rules) for name, d in detected.items()}
    t_score = time.perf_counter()
    caseload = caseload_of(world)
    runs = {}
    for name, d in detected.items():
        arrivals = policy_arrivals(d.alerts, cards[name])
        service = run_service(arrivals, centre, field, caseload)
        runs[name] = PolicyRun(d.policy, d.alerts, cards[name], d.wall_s, d.now, d.stats, arrivals, service,
                               service_measures(service, arrivals, centre, field, caseload))
    t_operations = time.perf_counter()
    wall = {"world": t_world - t0, "detection": t_detect - t_world, "score": t_score - t_detect,
            "operations": t_operations - t_score, "total": t_operations - t0}
    return RunResult(scenario, supplier, world, runs, pool.workers, started_utc, wall, field)


def policy_arrivals(alerts: list[Alert], card: Scorecard) -> CentreArrivals:
    """A policy's alerts as the centre receives them, each with the scorer's verdict on it."""
    raised = [a for a in alerts if a.raised_at is not None]
    return centre_arrivals(raised, [v.verdict for v in card.alerts])


def caseload_of(world: WorldSummary) -> Caseload:
    """What the service needs of the world: its subjects' homes, the town, the run's length."""
    homes = np.array([s.home for s in world.subjects], dtype=float).reshape(-1, 2)
    streams = Streams(world.scenario.seed)
    return Caseload(homes, world.scenario.town.radius_m, world.end, lambda purpose: streams.rng(Branch.OPERATIONS, purpose))


def results(result: RunResult) -> dict:
    """The run as the versioned results dict (``docs/results.md``): every figure, JSON-ready."""
    days = max(1, int(np.ceil(result.scenario.days)))
    world = result.world
    truth_kinds = {}
    for kind in TruthKind:
        rows = world.truth[world.truth["kind"] == kind]
        if len(rows):
            truth_kinds[kind.label] = {"intervals": len(rows), "hours": float((rows["end"] - rows["start"]).sum() / 3600)}
    policies = {name: _policy_results(p, days) for name, p in result.policies.items()}
    out = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "versions": {"tagsim": version("tagsim"), "python": platform.python_version(), "numpy": np.__version__,
                     "simpy": version("simpy")},
        "scenario": {"name": result.scenario.name, "description": result.scenario.description,
                     "subjects": result.scenario.subjects, "days": result.scenario.days, "seed": result.scenario.seed,
                     "supplier": result.supplier.name},
        "run": {"started_utc": result.started_utc, "workers": result.workers,
                "wall_s": {"world": result.wall_s["world"], "detection": result.wall_s["detection"],
                           "detect": {name: p.wall_s for name, p in result.policies.items()},
                           "score": result.wall_s["score"], "operations": result.wall_s["operations"],
                           "total": result.wall_s["total"]}},
        "world": {**asdict(world.stats),
                  "centre": {"frames": world.centre.frames, "records": world.centre.records,
                             "rejected": world.centre.rejected_total},
                  "truth": truth_kinds},
        "policies": policies,
        "comparison": {},
        "calibration": _calibration(result),
    }
    for baseline in ("reference", "naive"):
        if "standard" in policies and baseline in policies:
            out["comparison"][f"standard/{baseline}"] = _ratios(result.policies["standard"].scorecard,
                                                                result.policies[baseline].scorecard)
    return out


STAFFING_SCHEMA = "tagsim-staffing"
STAFFING_SCHEMA_VERSION = 1


def staffing_results(result: RunResult, target_percent: int, answers: Mapping[str, ServiceStaffing]) -> dict:
    """``tagsim staff --json``'s file (docs/operations.md): per policy, today's service, the
    staff needed and the service at the answer."""
    return {
        "schema": STAFFING_SCHEMA, "schema_version": STAFFING_SCHEMA_VERSION,
        "versions": {"tagsim": version("tagsim")},
        "scenario": {"name": result.scenario.name, "subjects": result.scenario.subjects, "days": result.scenario.days,
                     "seed": result.scenario.seed, "supplier": result.supplier.name},
        "target": target_percent / 100,
        "policies": {name: {"today": p.operations, "needed": answers[name].to_dict(), "at_needed": answers[name].measures}
                     for name, p in result.policies.items()},
    }


def _calibration(result: RunResult) -> dict:
    calibration = load_calibration()
    kind_of_device = {f.device: f.kind for case in result.world.cases for f in case.devices}
    subject_days = result.scenario.subjects * result.scenario.days
    by_policy = {name: {**measures(p.alerts, p.scorecard.alerts, kind_of_device, subject_days),
                        **service_figures(p.operations)} for name, p in result.policies.items()}
    low, high = calibration.alerts_per_person_day
    return {"bounds": {"alerts_per_person_day": [low, high]}, "figures": calibration_rows(calibration, by_policy)}


def _policy_results(run: PolicyRun, days: int) -> dict:
    by_category: dict[str, list[int]] = {c.value: [0] * days for c in Category}
    by_kind: Counter[tuple[str, int]] = Counter()
    totals: Counter[str] = Counter()
    for alert in run.alerts:
        day = min(int((alert.raised_at or 0.0) // DAY_S), days - 1)
        by_category[alert.category.value][day] += 1
        by_kind[(alert.kind.value, day)] += 1
        totals[alert.kind.value] += 1
    kinds = [kind for kind, _ in totals.most_common()]
    card = run.scorecard
    return {
        "scorecard": card.to_dict(),
        "daily": {"by_category": by_category,
                  "by_kind": {kind: [by_kind[(kind, d)] for d in range(days)] for kind in kinds}},
        "latencies_s": {family: list(f.latencies_s) for family, f in card.by_family.items()},
        "detector": asdict(run.stats),
        "operations": run.operations,
    }


def _ratios(standard: Scorecard, baseline: Scorecard) -> dict[str, float | None]:
    ratios: dict[str, float | None] = {}
    for name in COMPARED:
        a, b = getattr(standard.overall, name), getattr(baseline.overall, name)
        ratios[name] = a / b if a is not None and b else None
    a, b = standard.unmonitored.hours_caught, baseline.unmonitored.hours_caught
    ratios["unmonitored_hours_caught"] = a / b if b else None
    return ratios


ALERT_COLUMNS = ("policy", "alert_id", "subject", "device", "kind", "category", "family", "verdict", "event_time",
                 "raised_at", "closed_at", "event_end", "count", "cause", "truth_index")


OUTPUTS = ("results.json", "alerts.csv", "truth.csv", "centre.csv", "field.csv", "hourly.csv", "report.html")


def write_outputs(result: RunResult, folder: Path) -> dict:
    """``results.json``, ``alerts.csv`` (every alert of every policy, with its verdict),
    ``truth.csv`` (every truth interval, with each policy's verdict on it), the service's CSVs
    (``sim.operations.export``) and ``report.html`` into ``folder``; returns the results dict.
    Each is written into a temporary folder inside ``folder`` and then renamed into place,
    ``results.json`` last: a run killed while writing leaves no half-written file under an
    output's name, and a ``results.json`` only beside the rest of its run."""
    with tempfile.TemporaryDirectory(prefix=".tagsim-writing-", dir=folder) as writing:
        out = _write_outputs(result, Path(writing))
        for name in (*OUTPUTS[1:], OUTPUTS[0]):
            os.replace(Path(writing) / name, folder / name)
    return out


def _write_outputs(result: RunResult, folder: Path) -> dict:
    from sim.report import write_report  # matplotlib is slow to import; only a run that writes needs it

    out = results(result)
    (folder / "results.json").write_text(json.dumps(out, indent=1) + "\n")
    with (folder / "alerts.csv").open("w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(ALERT_COLUMNS)
        for name, policy_run in result.policies.items():
            for alert, v in zip(policy_run.alerts, policy_run.scorecard.alerts, strict=True):
                rows.writerow((name, alert.id, alert.subject, alert.device, alert.kind.value, alert.category.value,
                               v.family or "", v.verdict, _time(alert.event_time), _time(alert.raised_at),
                               _time(alert.closed_at), _time(alert.event_end), alert.count, alert.cause or "",
                               v.truth_index))
    names = list(result.policies)
    with (folder / "truth.csv").open("w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(("index", "subject", "device", "kind", "start", "end", "family",
                       *(f"{column}_{name}" for name in names for column in ("verdict", "latency_s"))))
        verdicts = [result.policies[name].scorecard.truth for name in names]
        for row in zip(*verdicts, strict=True):
            first = row[0]
            rows.writerow((first.index, first.subject, first.device, first.kind, _time(first.start), _time(first.end),
                           first.family or "", *(x for v in row for x in (v.verdict, _time(v.latency_s)))))
    services = {}
    for name, p in result.policies.items():
        raised = [a for a in p.alerts if a.raised_at is not None]
        services[name] = (p.service, [raised[i].id for i in p.arrivals.alert])
    write_service_csvs(services, result.field, folder)
    write_report(out, folder / "report.html")
    return out


def _time(t: float | None) -> str:
    return "" if t is None else repr(float(t))
