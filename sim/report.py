"""The run's report: ``report.html``, one self-contained page, and the scorecard as the terminal prints it.

Both read only the results dict (``results.json``, docs/results.md), so a report can be rebuilt from a
saved run without running it again.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import colormaps
# Figure directly, never pyplot: no global figure state and no GUI backend to pick, so a report can be
# written from any thread; savefig finds the Agg canvas for PNG by itself.
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

NONE = "none"
_NONE_HTML = f'<p class="none">{NONE}</p>'
CATEGORIES = ("breach", "equipment", "unmonitored", "info")
_CATEGORY_COLOURS = {"breach": "#c0392b", "equipment": "#e67e22", "unmonitored": "#8e44ad", "info": "#95a5a6"}
_PANEL_SIZE = (5.0, 3.2)  # inches, one policy's panel
# Latencies spanning this factor or more get a log axis, or the short ones all sit on the floor.
_LOG_SPREAD = 100.0


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.1f}%"


def _fixed(places: int) -> Callable[[float | None], str]:
    return lambda x: "-" if x is None else f"{x:,.{places}f}"


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:,.1f}"


def _count(n: int) -> str:
    return f"{n:,}"


def _ratio(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}x"


@dataclass(frozen=True)
class _Column:
    head: tuple[str, str]  # the terminal's two header lines, kept short for its width
    title: str  # the HTML header
    value: Callable[[dict[str, Any]], Any]  # from a policy's scorecard
    fmt: Callable[[Any], str]
    ratio: str | None  # the comparison's key for this column; None: the ratio row leaves it blank


# One list for both tables, so the terminal and the page cannot disagree.
_SCORECARD = (
    _Column(("alerts", "/subj-day"), "alerts per subject-day",
            lambda s: s["overall"]["alerts_per_subject_day"], _fixed(3), "alerts_per_subject_day"),
    _Column(("false", "share"), "false-alert share", lambda s: s["overall"]["false_share"], _pct, "false_share"),
    _Column(("", "precision"), "precision", lambda s: s["overall"]["precision"], _pct, "precision"),
    _Column(("", "recall"), "recall", lambda s: s["overall"]["recall"], _pct, "recall"),
    _Column(("latency", "med min"), "latency median (min)",
            lambda s: s["overall"]["latency_median_s"], _minutes, "latency_median_s"),
    _Column(("latency", "p95 min"), "latency p95 (min)", lambda s: s["overall"]["latency_p95_s"], _minutes, None),
    _Column(("missed", "breaches"), "missed breaches", lambda s: s["overall"]["missed"], _count, None),
    _Column(("false", "/1k s-d"), "false alerts per 1,000 subject-days",
            lambda s: s["overall"]["false_per_1000_subject_days"], _fixed(1), None),
    _Column(("unmon.", "dev-h"), "unmonitored device-hours",
            lambda s: s["unmonitored"]["device_hours"], _fixed(1), None),
    _Column(("hours", "caught"), "unmonitored hours caught",
            lambda s: s["unmonitored"]["hours_caught"], _fixed(1), "unmonitored_hours_caught"),
)

_FAMILY_COLUMNS: tuple[tuple[str, str, Callable[[Any], str]], ...] = (
    ("alerts", "alerts", _count),
    ("true", "true", _count),
    ("false", "false", _count),
    ("breaches", "breaches", _count),
    ("detected", "detected", _count),
    ("missed", "missed", _count),
    ("precision", "precision", _pct),
    ("recall", "recall", _pct),
    ("false_share", "false share", _pct),
    ("alerts_per_subject_day", "alerts per subject-day", _fixed(3)),
    ("false_per_1000_subject_days", "false per 1,000 subject-days", _fixed(1)),
    ("latency_median_s", "latency median (min)", _minutes),
    ("latency_p95_s", "latency p95 (min)", _minutes),
)


# Incidents: alerts grouped by subject, family and time (docs/scoring.md), and the haystack.
_INCIDENTS = (
    _Column(("", "incidents"), "incidents", lambda s: s["incidents"]["incidents"], _count, None),
    _Column(("", "true"), "true incidents", lambda s: s["incidents"]["true"], _count, None),
    _Column(("", "precision"), "incident precision", lambda s: s["incidents"]["precision"], _pct, None),
    _Column(("latency", "p95 min"), "incident latency p95 (min)", lambda s: s["incidents"]["latency_p95_s"], _minutes, None),
    _Column(("redundant", "alerts"), "redundant true alerts", lambda s: s["incidents"]["redundant_alerts"], _count, None),
    _Column(("operator", "items"), "operator-facing items", lambda s: s["incidents"]["items"], _count, None),
    _Column(("items", "/breach"), "items per genuine breach",
            lambda s: s["incidents"]["items_per_genuine_breach"], _fixed(1), None),
    _Column(("incidents", "/breach"), "incidents per genuine breach",
            lambda s: s["incidents"]["item_incidents_per_genuine_breach"], _fixed(1), None),
)


def _incident_rows(results: dict[str, Any]) -> list[list[str]]:
    return [[name] + [c.fmt(c.value(p["scorecard"])) for c in _INCIDENTS] for name, p in results["policies"].items()]


def _scorecard_rows(results: dict[str, Any]) -> list[list[str]]:
    """A row per policy, then a row per comparison (``standard/naive``), each cell formatted."""
    rows = [[name] + [c.fmt(c.value(p["scorecard"])) for c in _SCORECARD] for name, p in results["policies"].items()]
    for name, ratios in (results.get("comparison") or {}).items():
        rows.append([name] + [_ratio(ratios.get(c.ratio)) if c.ratio else "" for c in _SCORECARD])
    return rows


def format_scorecard(results: dict[str, Any]) -> str:
    """The scorecard as aligned plain text for the terminal: a row per policy, then the ratio rows."""
    return _aligned([("policy", "")] + [c.head for c in _SCORECARD], _scorecard_rows(results))


def format_incidents(results: dict[str, Any]) -> str:
    """The incident table as aligned plain text for the terminal: a row per policy."""
    return _aligned([("policy", "")] + [c.head for c in _INCIDENTS], _incident_rows(results))


def format_calibration(results: dict[str, Any]) -> str:
    """The calibration table as aligned plain text: a row per published figure, then for each
    policy tagsim's figure on the same definition and the ratio tagsim / published."""
    heads, rows = _calibration_table(results)
    return _aligned([("published figure", ""), ("", "published"), *((name, what) for name, what in heads)], rows)


_COUNTS = ("alerts_per_person_day", "field.visits_per_subject_year")  # figures that are not shares


def _calibration_table(results: dict[str, Any]) -> tuple[list[tuple[str, str]], list[list[str]]]:
    names = list(results["policies"])
    heads = [h for name in names for h in ((name, "tagsim"), ("", "ratio"))]
    rows = []
    for row in (results.get("calibration") or {}).get("figures", []):
        fmt = _fixed(3) if row["measure"] in _COUNTS else _pct
        cells = [row["name"], fmt(row["published"])]
        for name in names:
            cells += [fmt(row["tagsim"].get(name)), _ratio(row["ratio"].get(name))]
        rows.append(cells)
    return heads, rows


_CLASS_HEADS = [("policy", ""), ("class", ""), ("", "alerts"), ("taken", "up"), ("to action", "med min"),
                ("to action", "p95 min"), ("deadline", "min"), ("within", "deadline")]
_CENTRE_HEADS = [("policy", ""), ("at desk", "by shift"), ("", "occupancy"), ("offered", "load"), ("", "overloaded"),
                 ("queue", "growth/h"), ("waiting", "at end"), ("", "items"), ("joined", "open"), ("inter-", "ruptions"),
                 ("", "calls"), ("visits", "asked"), ("genuine", "breaches"), ("past", "deadline"),
                 ("items while", "waiting med"), ("Little's", "law gap")]
_JOB_HEADS = [("policy", ""), ("job", ""), ("", "jobs"), ("", "done"), ("to site", "med h"), ("to site", "p95 h"),
              ("deadline", "h"), ("within", "deadline")]
_FIELD_HEADS = [("policy", ""), ("at work", "by shift"), ("", "occupancy"), ("drive a", "visit min"),
                ("visits a", "subject-yr"), ("backlog", "mean"), ("backlog", "growth/day"), ("", "overloaded"),
                ("new", "orders"), ("fitted in", "window"), ("1st attempt", "in window"), ("waiting", "at end"),
                ("unmonitored", "person-days")]


def _operated(policies: dict[str, Any]) -> dict[str, Any]:
    """Each policy's service measures (absent from results saved before the field was modelled)."""
    return {name: p["operations"] for name, p in policies.items() if "field" in (p.get("operations") or {})}


def _clock(hour: float) -> str:
    minutes = round(hour * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _yes_no(flag: bool | None) -> str:
    return "-" if flag is None else ("yes" if flag else "no")


def _hours(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 3600:,.1f}"


def _class_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, ops in _operated(results["policies"]).items():
        centre = ops["centre"]
        for klass, c in centre["classes"].items():
            rows.append([name, klass, _count(c["alerts"]), _count(c["taken_up"]), _minutes(c["time_to_action_median_s"]),
                         _minutes(c["time_to_action_p95_s"]), _minutes(c["deadline_s"]), _pct(c["within_deadline_share"])])
        n = centre["notification"]
        rows.append([name, "notified", _count(n["alerts"]), "", _minutes(n["time_to_notify_median_s"]),
                     _minutes(n["time_to_notify_p95_s"]), _minutes(n["deadline_s"]), _pct(n["within_deadline_share"])])
    return rows


def _centre_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, ops in _operated(results["policies"]).items():
        c = ops["centre"]
        genuine, follow = c["genuine_breaches"], c["followed_up"]
        rows.append([name, "/".join(str(n) for n in c["operators"]["at_desk"]), _pct(c["occupancy"]),
                     _fixed(2)(c["offered_load"]), _yes_no(c["overloaded"]),
                     _fixed(1)(c["queue_growth_per_hour"]), _count(c["waiting_at_end"]), _count(c["items"]),
                     _count(c["joined_open_incident"]), _count(c["interruptions"]), _count(follow["calls"]),
                     _count(follow["visits_total"]), _count(genuine["alerts"]), _count(genuine["past_deadline"]),
                     _fixed(0)(genuine["items_taken_up_while_waiting_median"]), _pct(c["littles_law"]["relative_gap"])])
    return rows


def _job_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, ops in _operated(results["policies"]).items():
        for job, j in ops["field"]["by_job"].items():
            rows.append([name, job, _count(j["jobs"]), _count(j["done"]), _hours(j["time_to_site_median_s"]),
                         _hours(j["time_to_site_p95_s"]), _hours(j["deadline_s"]), _pct(j["within_deadline_share"])])
    return rows


def _field_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for name, ops in _operated(results["policies"]).items():
        f = ops["field"]
        fit = f["fitting"]
        rows.append([name, "/".join(str(n) for n in f["officers"]["at_work"]), _pct(f["occupancy"]),
                     _minutes(f["travel_per_visit_s"]), _fixed(1)(f["visits_per_subject_year"]),
                     _fixed(0)(f["backlog"]["mean"]), _fixed(1)(f["backlog"]["growth_per_day"]),
                     _yes_no(f["overloaded"]), _count(fit["orders"]), _pct(fit["within_window_share"]),
                     _pct(fit["first_attempt_within_window_share"]), _count(fit["waiting_at_end"]),
                     _fixed(1)(fit["unmonitored_person_days"])])
    return rows


_OPERATIONS_TABLES = ((_CLASS_HEADS, _class_rows), (_CENTRE_HEADS, _centre_rows), (_JOB_HEADS, _job_rows),
                      (_FIELD_HEADS, _field_rows))


def format_operations(results: dict[str, Any]) -> str:
    """The service as aligned plain text: the centre's time to action by policy and class (and
    to notify a genuine breach), each policy's centre (staffing, occupancy, overload, what
    followed the desk, the genuine breaches' waits), then the field force's jobs and each
    policy's field (officers, drives, backlog, fittings, the person-days unmonitored)."""
    return "\n\n".join(_aligned(heads, rows(results)) for heads, rows in _OPERATIONS_TABLES)


_STAFF_HEADS = [("policy", ""), ("staff", ""), ("today's", "roster"), ("lowest share", "today"), ("needed", "roster"),
                ("needed", "at work"), ("", "occupancy"), ("lowest share", "at answer"), ("Erlang C", "guess"),
                ("rosters", "tried")]


def _lowest(shares: dict[str, float | None]) -> str:
    known = {k: v for k, v in shares.items() if v is not None}
    if not known:
        return "-"
    name = min(known, key=lambda k: known[k])
    return f"{name} {_pct(known[name])}"


def _centre_shares(centre: dict[str, Any]) -> dict[str, float | None]:
    return {**{k: c["within_deadline_share"] for k, c in centre["classes"].items()},
            "notified": centre["notification"]["within_deadline_share"]}


def _field_shares(field: dict[str, Any]) -> dict[str, float | None]:
    return {k: j["within_deadline_share"] for k, j in field["by_job"].items()}


def format_staffing(scenario: Any, centre: Any, field: Any, target: int, answers: dict[str, Any]) -> str:
    """``tagsim staff``'s answer as text: per policy, the centre's operators and the field's
    officers, today's roster and its lowest share within deadline beside the fewest that hold
    every deadline at ``target`` percent. ``answers[policy]`` is (today's service measures,
    ``sim.operations.staffing.ServiceStaffing``)."""
    rows = []
    for name, (today, staffing) in answers.items():
        for staff, rota, answer, shares, measure in (
            ("operators", centre.rota, staffing.operators, _centre_shares, "centre"),
            ("field officers", field.rota, staffing.officers, _field_shares, "field"),
        ):
            found = answer.measures
            at_work = found["operators"]["at_desk"] if measure == "centre" and found else (
                found["officers"]["at_work"] if found else None)
            rows.append([name, staff, "/".join(map(str, rota.staff)), _lowest(shares(today[measure])),
                         "/".join(map(str, answer.staff)) if answer.staff else "none holds",
                         "/".join(map(str, at_work)) if at_work else "-", _pct(found["occupancy"]) if found else "-",
                         _lowest(shares(found)) if found else "-", str(answer.erlang_guess), str(len(answer.tried))])
    heading = (f"{scenario.name}: {scenario.subjects:,} subjects, {scenario.days:g} days; target {target}% of every alert "
               f"class, of genuine breaches notified and of every field job within its deadline, the field's backlog "
               f"draining; centre shifts of {centre.rota.shift_hours:g} h, field shifts of {field.rota.shift_hours:g} h, "
               f"from {_clock(centre.rota.first_shift_hour)} and {_clock(field.rota.first_shift_hour)}")
    return heading + "\n" + _aligned(_STAFF_HEADS, rows)


def _aligned(heads: list[tuple[str, str]], rows: list[list[str]]) -> str:
    widths = [max(len(h[0]), len(h[1]), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]

    def line(cells: Iterable[str]) -> str:
        first, *rest = cells
        return "  ".join([first.ljust(widths[0])] + [c.rjust(w) for c, w in zip(rest, widths[1:])]).rstrip()

    lines = [line(h[0] for h in heads), line(h[1] for h in heads), *(line(r) for r in rows)]
    if not rows:
        lines.append(NONE)
    return "\n".join(lines)


def _e(text: Any) -> str:
    return html.escape(str(text))


def _table(heads: list[str], rows: list[list[str]], row_class: Callable[[int], str] = lambda i: "") -> str:
    if not rows:
        return _NONE_HTML
    head = "".join(f"<th>{_e(h)}</th>" for h in heads)
    body = []
    for i, row in enumerate(rows):
        first, *rest = row
        cls = row_class(i)
        cells = f"<th>{_e(first)}</th>" + "".join(f'<td class="num">{_e(c)}</td>' for c in rest)
        body.append(f'<tr class="{cls}">{cells}</tr>' if cls else f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _scorecard_html(results: dict[str, Any]) -> str:
    n_policies = len(results["policies"])
    return _table(["policy"] + [c.title for c in _SCORECARD], _scorecard_rows(results),
                  lambda i: "ratio" if i >= n_policies else "")


def _calibration_html(results: dict[str, Any]) -> str:
    heads, rows = _calibration_table(results)
    sources = [row["source"] for row in (results.get("calibration") or {}).get("figures", [])]
    table = _table(["published figure", "published", *(f"{a} {b}".strip() for a, b in heads)], rows)
    notes = "".join(f"<li>{_e(row[0])}: {_e(source)}</li>" for row, source in zip(rows, sources, strict=True))
    return table + (f'<ul class="note">{notes}</ul>' if notes else "")


def _incidents_html(results: dict[str, Any]) -> str:
    return _table(["policy"] + [c.title for c in _INCIDENTS], _incident_rows(results))


def _operations_html(results: dict[str, Any]) -> str:
    def titles(heads: list[tuple[str, str]]) -> list[str]:
        return [f"{a} {b}".strip() for a, b in heads]
    return "".join(_table(titles(heads), rows(results)) for heads, rows in _OPERATIONS_TABLES)


def _family_html(name: str, policy: dict[str, Any]) -> str:
    card = policy["scorecard"]
    families = [("overall", card["overall"]), *card["by_family"].items()]
    rows = [[family, *(fmt(score[key]) for key, _, fmt in _FAMILY_COLUMNS)] for family, score in families]
    equipment, unmonitored = card["equipment"], card["unmonitored"]
    median_name = unmonitored["hours_to_name_median"]
    to_name = "" if median_name is None else f", median {median_name:,.1f} h to name"
    notes = (
        f"Equipment alerts: {_count(equipment['alerts'])}, {_count(equipment['real'])} real, "
        f"{_count(equipment['unexplained'])} unexplained. "
        f"Unmonitored devices: {_count(unmonitored['devices'])} "
        f"({_fixed(1)(unmonitored['device_hours'])} device-hours), "
        f"{_count(unmonitored['named'])} named{to_name}, "
        f"{_fixed(1)(unmonitored['hours_caught'])} hours caught; "
        f"{_count(unmonitored['alerts'])} unmonitored alerts, {_count(unmonitored['alerts_true'])} true."
    )
    return (f"<h3>{_e(name)}</h3>" + _table(["family"] + [title for _, title, _ in _FAMILY_COLUMNS], rows)
            + f'<p class="note">{_e(notes)}</p>')


def _png(fig: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_e(alt)}" src="data:image/png;base64,{data}">'


def _panels(n: int) -> tuple[Figure, np.ndarray]:
    """A row of panels, one per policy, on one y-axis so the policies compare at a glance."""
    fig = Figure(figsize=(_PANEL_SIZE[0] * n + 1.5, _PANEL_SIZE[1]), layout="constrained")
    return fig, fig.subplots(1, n, sharey=True, squeeze=False)[0]


def _stacked_daily(policies: dict[str, Any], key: str, order: list[str], colours: dict[str, Any], alt: str) -> str:
    """Alerts raised per day, stacked by ``daily[key]``'s labels in ``order``."""
    days = max((len(v) for p in policies.values() for v in p["daily"][key].values()), default=0)
    if not order or days == 0:
        return _NONE_HTML
    fig, axes = _panels(len(policies))
    x = np.arange(1, days + 1)
    peak = 0.0
    for ax, (name, policy) in zip(axes, policies.items()):
        bottom = np.zeros(days)
        for label in order:
            counts = policy["daily"][key].get(label, [])
            y = np.zeros(days)
            y[: len(counts)] = counts
            ax.bar(x, y, bottom=bottom, color=colours[label], label=label)
            bottom += y
        if not bottom.any():
            ax.text(0.5, 0.5, NONE, transform=ax.transAxes, ha="center", va="center", color="grey")
        peak = max(peak, bottom.max())
        ax.set_title(name)
        ax.set_xlabel("day")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("alerts raised")
    axes[0].set_ylim(0, 1.05 * peak)  # bars stop the autoscale at their top; leave the tallest some air
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside right upper", fontsize="small")
    return _png(fig, alt)


def _totals(policies: dict[str, Any], key: str) -> dict[str, int]:
    totals: dict[str, int] = {}
    for policy in policies.values():
        for label, counts in policy["daily"][key].items():
            totals[label] = totals.get(label, 0) + int(sum(counts))
    return totals


def _by_category(policies: dict[str, Any]) -> str:
    totals = _totals(policies, "by_category")
    # The fixed categories keep their order and colours from run to run; an unknown one goes last, grey.
    order = [c for c in CATEGORIES if totals.get(c)] + sorted(c for c in totals if c not in CATEGORIES and totals[c])
    colours = {c: _CATEGORY_COLOURS.get(c, "#555555") for c in order}
    return _stacked_daily(policies, "by_category", order, colours, "alerts per day by category")


def _by_kind(policies: dict[str, Any]) -> str:
    totals = _totals(policies, "by_kind")
    order = sorted((k for k in totals if totals[k]), key=lambda k: (-totals[k], k))
    # A kind has one colour in every panel; tab20 has enough for every alert kind.
    palette = colormaps["tab20"]
    colours = {k: palette(i % palette.N) for i, k in enumerate(order)}
    return _stacked_daily(policies, "by_kind", order, colours, "alerts per day by kind")


def _latency(policies: dict[str, Any]) -> str:
    families: list[str] = []
    for policy in policies.values():
        for family in [*policy["scorecard"]["by_family"], *policy["latencies_s"]]:
            if family not in families:
                families.append(family)
    minutes = {name: [np.asarray(p["latencies_s"].get(f, []), dtype=float) / 60 for f in families]
               for name, p in policies.items()}
    every = np.concatenate([v for by_family in minutes.values() for v in by_family] or [np.empty(0)])
    if not every.size:
        return _NONE_HTML
    fig, axes = _panels(len(policies))
    ticks = np.arange(1, len(families) + 1)
    for ax, (name, by_family) in zip(axes, minutes.items()):
        filled = [(tick, v) for tick, v in zip(ticks, by_family) if v.size]
        if filled:
            ax.boxplot([v for _, v in filled], positions=[t for t, _ in filled], widths=0.6)
        else:
            ax.text(0.5, 0.5, NONE, transform=ax.transAxes, ha="center", va="center", color="grey")
        labels = [f"{f} ({v.size})" if v.size else f"{f} ({NONE})" for f, v in zip(families, by_family)]
        ax.set_xticks(ticks, labels, rotation=40, ha="right", fontsize="small")
        ax.set_xlim(0.5, len(families) + 0.5)
        ax.set_title(name)
    positive = every[every > 0]
    if positive.size and positive.max() / positive.min() >= _LOG_SPREAD:
        # An alert matches a breach within a tolerance either side (scoring.md), so a latency can be zero
        # or negative: no place for it on a log axis, but symlog keeps it.
        if positive.size < every.size:
            # The linear stretch ends at a power of ten, so its ticks do not crowd the first decade's.
            axes[0].set_yscale("symlog", linthresh=10 ** np.floor(np.log10(positive.min())))
            # symlog's autoscale reaches down into negatives there are none of, and clips the top.
            axes[0].set_ylim(min(0.0, every.min()), 2 * every.max())
        else:
            axes[0].set_yscale("log")
    axes[0].set_ylabel("minutes, breach start to alert")
    return _png(fig, "latency by policy and family")


def _unmonitored(policies: dict[str, Any]) -> str:
    names = list(policies)
    exposed = [policies[n]["scorecard"]["unmonitored"]["device_hours"] for n in names]
    caught = [policies[n]["scorecard"]["unmonitored"]["hours_caught"] for n in names]
    if not any(exposed) and not any(caught):
        return _NONE_HTML
    fig = Figure(figsize=(max(4.0, 1.6 * len(names) + 2.5), _PANEL_SIZE[1]), layout="constrained")
    ax = fig.subplots()
    x = np.arange(len(names))
    ax.bar_label(ax.bar(x - 0.2, exposed, 0.4, label="device-hours unmonitored", color="#7f8c8d"), fmt="%.1f")
    ax.bar_label(ax.bar(x + 0.2, caught, 0.4, label="hours caught (named)", color="#8e44ad"), fmt="%.1f")
    ax.set_xticks(x, names)
    ax.set_ylabel("hours")
    ax.set_ylim(top=1.12 * max(exposed + caught))  # room for the bars' labels
    fig.legend(loc="outside right upper", fontsize="small")
    return _png(fig, "unmonitored device-hours and hours caught")


def _over_time(policies: dict[str, Any], part: str, count: str,
               series: tuple[tuple[str, Callable[[dict[str, Any]], list[float]]], ...], ylabel: str, alt: str) -> str:
    """Hourly means over simulated time, a line per policy and series, on one axis; none when no
    policy's ``part`` of the service had any ``count`` (a queue that stayed empty still plots)."""
    operated = _operated(policies)
    if not any(ops[part][count] for ops in operated.values()):
        return _NONE_HTML
    lines = {f"{name} {label}".strip(): get(ops[part]) for name, ops in operated.items() for label, get in series}
    fig = Figure(figsize=(_PANEL_SIZE[0] * 2, _PANEL_SIZE[1]), layout="constrained")
    ax = fig.subplots()
    for label, hourly in lines.items():
        ax.plot(np.arange(len(hourly)) / 24, hourly, label=label, linewidth=1)
    ax.set_xlabel("day")
    ax.set_ylabel(ylabel)
    fig.legend(loc="outside right upper", fontsize="small")
    return _png(fig, alt)


def _queue(policies: dict[str, Any]) -> str:
    return _over_time(policies, "centre", "alerts", (("", lambda centre: centre["queue"]["hourly_mean"]),),
                      "items waiting (hourly mean)", "the monitoring centre's queue over simulated time")


def _backlog(policies: dict[str, Any]) -> str:
    return _over_time(policies, "field", "jobs", (("all jobs", lambda field: field["backlog"]["hourly_mean"]),
                                                  ("fittings", lambda field: field["backlog"]["fittings_hourly_mean"])),
                      "jobs due, not done (hourly mean)", "the field force's backlog over simulated time")


_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em auto; max-width: 80em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; }
thead th { background: #f0f0f0; vertical-align: bottom; }
tbody th { text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.ratio { font-style: italic; background: #fafafa; }
.meta, .note { color: #555; }
p.none { color: #888; font-style: italic; }
figure { margin: 1em 0; }
img { max-width: 100%; }
"""

_PLOTS: tuple[tuple[str, str, Callable[[dict[str, Any]], str]], ...] = (
    ("alerts-by-category", "Alerts per day by category", _by_category),
    ("alerts-by-kind", "Alerts per day by kind, most alerts first", _by_kind),
    ("latency", "Latency by policy and family (minutes)", _latency),
    ("unmonitored", "Unmonitored device-hours and hours caught", _unmonitored),
    ("queue", "The monitoring centre's queue over simulated time", _queue),
    ("backlog", "The field force's backlog over simulated time: every job due and not done, and the fittings among them",
     _backlog),
)


def _header(results: dict[str, Any]) -> str:
    scenario, run = results["scenario"], results["run"]
    versions = ", ".join(f"{name} {version}" for name, version in results["versions"].items())
    facts = (f"{scenario['subjects']:,} subjects, {scenario['days']:g} days, seed {scenario['seed']}, "
             f"supplier {scenario['supplier']}")
    started = f"started {run['started_utc']}, {run['workers']} workers, {run['wall_s']['total']:.1f} s in all"
    return (f"<h1>tagsim run: {_e(scenario['name'])}</h1>"
            f"<p>{_e(scenario['description'])}</p>"
            f'<p class="meta">{_e(facts)}</p>'
            f'<p class="meta">{_e(versions)}; {_e(started)}</p>')


def write_report(results: dict[str, Any], path: Path) -> None:
    """Write ``results`` as one self-contained HTML page: plots inline as PNG, no external assets."""
    policies = results["policies"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>tagsim run: {_e(results['scenario']['name'])}</title>",
        f"<style>{_CSS}</style></head><body>",
        _header(results),
        "<h2>Scorecard</h2>",
        _scorecard_html(results),
        "<h2>Incidents</h2>",
        _incidents_html(results),
        "<h2>Calibration: against the published record</h2>",
        _calibration_html(results),
        "<h2>By family</h2>",
        *(_family_html(name, policy) for name, policy in policies.items()),
        "<h2>The service: the monitoring centre and the field force (staffing, handling and travel assumed: "
        "seeds/operations/)</h2>",
        _operations_html(results),
    ]
    if not policies:
        parts.append(_NONE_HTML)
    for anchor, caption, plot in _PLOTS:
        body = plot(policies) if policies else _NONE_HTML
        parts.append(f'<figure id="{anchor}"><figcaption><h2>{_e(caption)}</h2></figcaption>{body}</figure>')
    parts.append("</body></html>")
    path.write_text("\n".join(parts) + "\n", encoding="utf-8")
