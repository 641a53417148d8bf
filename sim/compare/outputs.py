"""A comparison's outputs: ``compare.json`` (versioned, ``docs/compare.md``), ``compare.csv``
(a row a difference), ``compare.html`` (the tables and a forest plot of the differences) and
the table the terminal prints."""

from __future__ import annotations

import csv
import html
import json
import platform
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from sim.compare.observations import Observations
from sim.compare.summary import summarise

SCHEMA = "tagsim-compare"
SCHEMA_VERSION = 1
CSV_COLUMNS = ("policy", "metric", "a", "b", "n", "a_mean", "b_mean", "difference", "low", "high", "unpaired_low",
               "unpaired_high", "paired_to_unpaired_width", "verdict")


def comparison(observed: Observations, target: float | None, met: bool | None, most: int, started_utc: str,
               service: dict[str, Any]) -> dict[str, Any]:
    """The whole comparison as the versioned dict ``compare.json`` holds; ``service`` records the
    rosters the runs used and the service level a staffing search held."""
    scenario = observed.scenario
    common = all(len(set(seeds)) == 1 for seeds in observed.seeds)
    return {
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "versions": {"tagsim": version("tagsim"), "python": platform.python_version(), "numpy": np.__version__},
        "scenario": {"name": scenario.name, "subjects": scenario.subjects, "days": scenario.days, "seed": scenario.seed},
        "started_utc": started_utc,
        "supplier_profiles": [{"name": s.name, "description": s.description} for s in observed.suppliers],
        "policies": observed.policies,
        "metrics": [{"name": m.name, "label": m.label, "unit": m.unit, "better": m.better} for m in observed.metrics],
        "design": "common random numbers" if common else "independent",
        "replications": len(observed.seeds), "seeds": observed.seeds, "service": service,
        "precision": {"target": target, "met": met, "most": most if target is not None else None},
        "wall_s": {"replications": observed.wall_s, "total": float(sum(observed.wall_s))},
        **summarise(observed),
    }


def write_comparison(out: dict[str, Any], folder: Path) -> None:
    (folder / "compare.json").write_text(json.dumps(out, indent=1) + "\n")
    with (folder / "compare.csv").open("w", newline="") as fh:
        rows = csv.writer(fh)
        rows.writerow(CSV_COLUMNS)
        for d in out["differences"]:
            rows.writerow((d["policy"], d["metric"], d["a"], d["b"], d["n"], _num(d["a_mean"]), _num(d["b_mean"]),
                           _num(d["mean"]), _num(d["low"]), _num(d["high"]), _num(d["unpaired_low"]),
                           _num(d["unpaired_high"]), _num(d["paired_to_unpaired_width"]), d["verdict"]))
    (folder / "compare.html").write_text(_page(out), encoding="utf-8")


def format_comparison(out: dict[str, Any]) -> str:
    """The terminal's table: per policy and metric, each supplier's mean with its interval, then
    each pair's difference, its widened interval and the verdict."""
    names = [s["name"] for s in out["supplier_profiles"]]
    lines = [f"{out['scenario']['name']}: {out['scenario']['subjects']:,} subjects, {out['scenario']['days']:g} days, "
             f"{out['replications']} replications ({out['design']}); intervals 95% for each supplier, differences at "
             f"{100 * out['correction']['level_each']:.2f}% each (Bonferroni over {out['correction']['comparisons']}); "
             f"shares' differences in percentage points"]
    units = {m["name"]: m for m in out["metrics"]}
    for policy in out["policies"]:
        lines.append("")
        rows = [["metric", *names]]
        for metric in units:
            rows.append([units[metric]["label"], *(_mean_interval(out["suppliers"][n][policy][metric], units[metric]["unit"])
                                                   for n in names)])
        lines += [f"policy {policy}", *_aligned(rows)]
        pairs = [["difference", "a - b", "interval", "verdict"]]
        for d in (d for d in out["differences"] if d["policy"] == policy):
            unit = units[d["metric"]]["unit"]
            unit = "points" if unit == "share" else unit
            pairs.append([f"{units[d['metric']]['label']}: {d['a']} vs {d['b']}", _value(d["mean"], unit),
                          f"[{_value(d['low'], unit)}, {_value(d['high'], unit)}]", d["verdict"]])
        lines += ["", *_aligned(pairs)]
    return "\n".join(lines)


def _aligned(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join([r[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(r[1:], widths[1:]))]).rstrip() for r in rows]


def _value(x: float | None, unit: str) -> str:
    if x is None:
        return "-"
    if unit == "share":
        return f"{100 * x:.1f}%"
    if unit == "points":
        return f"{100 * x:+.1f} pt"
    if unit == "s":
        return f"{x / 60:,.1f} min"
    return f"{x:,.3f}" if abs(x) < 10 else f"{x:,.1f}"


def _mean_interval(s: dict[str, Any], unit: str) -> str:
    if s["low"] is None:
        return _value(s["mean"], unit)
    return f"{_value(s['mean'], unit)} [{_value(s['low'], unit)}, {_value(s['high'], unit)}]"


def _num(x: float | None) -> str:
    return "" if x is None else repr(float(x))


def _page(out: dict[str, Any]) -> str:
    e = html.escape
    text = format_comparison(out)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        f"<title>tagsim compare: {e(out['scenario']['name'])}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:80em;color:#222}"
        "pre{font-size:0.85em}img{max-width:100%}.note{color:#555}</style></head><body>",
        f"<h1>tagsim compare: {e(out['scenario']['name'])}</h1>",
        f'<p class="note">Suppliers: {e(", ".join(s["name"] + " (" + s["description"] + ")" for s in out["supplier_profiles"]))}. '
        f'{out["replications"]} replications ({e(out["design"])}), seeds {e(str(out["seeds"]))}.</p>',
        "<h2>Differences, relative to the second supplier (widened intervals)</h2>", _forest(out),
        '<p class="note">Each dot is a pair\'s mean difference over the replications, (a - b) / b; its bar the '
        "interval at the Bonferroni level. A bar that crosses 0 is no significant difference. The axis is linear "
        "within +-10% and logarithmic beyond.</p>",
        "<h2>Tables</h2>", f"<pre>{e(text)}</pre>", "</body></html>"]) + "\n"


def _forest(out: dict[str, Any]) -> str:
    """A forest plot: for each policy a panel, for each metric a row, each pair's difference
    (a - b) / b in percent with its widened interval; the line at 0 is no difference."""
    import base64
    import io

    from matplotlib import colormaps
    from matplotlib.figure import Figure

    labels = {m["name"]: m["label"] for m in out["metrics"]}
    pairs = sorted({(d["a"], d["b"]) for d in out["differences"]})
    policies = out["policies"]
    fig = Figure(figsize=(6.0 * len(policies) + 2, 0.45 * len(labels) * max(len(pairs), 1) + 1.5), layout="constrained")
    axes = fig.subplots(1, len(policies), sharey=True, squeeze=False)[0]
    colours = colormaps["tab10"]
    names = list(labels)
    for ax, policy in zip(axes, policies):
        for k, pair in enumerate(pairs):
            rows = [d for d in out["differences"] if d["policy"] == policy and (d["a"], d["b"]) == pair]
            for d in rows:
                y = names.index(d["metric"]) + (k - (len(pairs) - 1) / 2) * 0.25
                if d["relative"] is None:  # b's mean is 0, or too few replications: said, not drawn
                    if d["mean"] is not None:
                        ax.annotate(f"{pair[0]} vs {pair[1]}: b's mean is 0 ({d['verdict']})", (0.0, y), fontsize="x-small",
                                    color=colours(k), va="center")
                    continue
                ax.errorbar(100 * d["relative"], y, xerr=[[100 * (d["relative"] - d["relative_low"])],
                                                         [100 * (d["relative_high"] - d["relative"])]],
                            fmt="o", color=colours(k), capsize=3, label=f"{pair[0]} vs {pair[1]}")
        ax.axvline(0.0, color="grey", linewidth=1)
        # Linear within +-10%, logarithmic beyond: a +780% and a -2% difference both show.
        ax.set_xscale("symlog", linthresh=10.0)
        ax.set_title(f"policy {policy}")
        ax.set_xlabel("(a - b) / b, %")
        ax.set_yticks(range(len(names)), [labels[n] for n in names])
        ax.invert_yaxis()
    handles, legend = axes[0].get_legend_handles_labels()
    if handles:
        unique = dict(zip(legend, handles))
        fig.legend(unique.values(), unique.keys(), loc="outside lower center", fontsize="small")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100)
    return f'<img alt="forest plot of the differences" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'
