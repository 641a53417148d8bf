"""The report writer and the terminal scorecard, from results dicts built by hand (docs/results.md)."""

from __future__ import annotations

import base64
import copy
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.operations.centre.arrivals import plain_arrivals
from sim.operations.centre.params import load_centre
from sim.operations.field.params import load_field
from sim.operations.service import Caseload, run_service, service_measures
from sim.report import format_calibration, format_incidents, format_operations, format_scorecard, write_report

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLOTS = ("alerts-by-category", "alerts-by-kind", "latency", "unmonitored", "queue", "backlog")
SUBJECT_DAYS = 500 * 3


def score(alerts: int, true: int, breaches: int, detected: int,
          median_s: float | None, p95_s: float | None) -> dict[str, Any]:
    """A FamilyScore whose ratios follow from its counts."""
    false = alerts - true
    return {
        "alerts": alerts, "true": true, "false": false,
        "breaches": breaches, "detected": detected, "missed": breaches - detected,
        "precision": true / alerts if alerts else None,
        "recall": detected / breaches if breaches else None,
        "false_share": false / alerts if alerts else None,
        "alerts_per_subject_day": alerts / SUBJECT_DAYS,
        "false_per_1000_subject_days": 1000 * false / SUBJECT_DAYS,
        "latency_median_s": median_s, "latency_p95_s": p95_s,
    }


def operations(alerts: int) -> dict[str, Any]:
    """The service's measures of ``alerts`` breach alerts a quarter-hour apart over three days,
    every other one genuine, for 500 subjects at the town's centre."""
    centre, field = load_centre(), load_field()
    arrivals = plain_arrivals(np.arange(alerts) * 900.0, np.zeros(alerts, int))
    arrivals = replace(arrivals, genuine=np.arange(alerts) % 2 == 0)
    caseload = Caseload(np.zeros((500, 2)), 10_000.0, 3 * 86400.0, lambda purpose: np.random.default_rng((1, purpose)))
    return service_measures(run_service(arrivals, centre, field, caseload), arrivals, centre, field, caseload)


def policy(overall: dict[str, Any], by_family: dict[str, Any], daily_category: dict[str, list[int]],
           daily_kind: dict[str, list[int]], latencies: dict[str, list[float]], hours_caught: float,
           named: int, hours_to_name: float | None) -> dict[str, Any]:
    return {
        "scorecard": {
            "overall": overall,
            "by_family": by_family,
            "equipment": {"alerts": 10, "real": 7, "unexplained": 3},
            "unmonitored": {"devices": 2, "device_hours": 96.0, "named": named, "hours_to_name_median": hours_to_name,
                            "hours_caught": hours_caught, "alerts": named, "alerts_true": named},
            "incidents": {"incidents": overall["true"] + 3, "true": overall["true"] // 2, "false": overall["true"] - overall["true"] // 2 + 3,
                          "precision": 0.5, "recall": overall["recall"], "latency_median_s": overall["latency_median_s"],
                          "latency_p95_s": overall["latency_p95_s"], "redundant_alerts": overall["true"] - overall["true"] // 2,
                          "by_family": {}, "items": overall["alerts"] + 10, "item_incidents": overall["true"] + 5,
                          "items_per_genuine_breach": (overall["alerts"] + 10) / overall["breaches"] if overall["breaches"] else None,
                          "item_incidents_per_genuine_breach": None},
        },
        "daily": {"by_category": daily_category, "by_kind": daily_kind},
        "latencies_s": latencies,
        "operations": operations(overall["alerts"]),
    }


@pytest.fixture
def results() -> dict[str, Any]:
    naive = policy(
        overall=score(60, 24, 30, 25, 900.0, 3600.0),
        by_family={"curfew": score(40, 16, 20, 17, 600.0, 3000.0), "tamper": score(20, 8, 8, 8, 1200.0, 3600.0),
                   "exclusion": score(0, 0, 2, 0, None, None)},
        daily_category={"breach": [20, 25, 15], "equipment": [3, 4, 3], "unmonitored": [0, 0, 0], "info": [1, 0, 2]},
        daily_kind={"curfew-absence": [14, 16, 10], "strap-tamper": [6, 9, 5], "mains-lost": [3, 4, 3],
                    "backup-battery-low": [1, 0, 2]},
        latencies={"curfew": [60.0, 600.0, 3000.0], "tamper": [1200.0, 3600.0], "exclusion": []},
        hours_caught=0.0, named=0, hours_to_name=None,
    )
    standard = policy(
        overall=score(30, 24, 30, 27, 1080.0, 5400.0),
        by_family={"curfew": score(20, 16, 20, 19, 700.0, 4000.0), "tamper": score(10, 8, 8, 8, 1500.0, 5400.0),
                   "exclusion": score(0, 0, 2, 0, None, None)},
        daily_category={"breach": [8, 10, 6], "equipment": [2, 1, 1], "unmonitored": [1, 1, 0], "info": [0, 0, 0]},
        daily_kind={"curfew-absence": [5, 6, 3], "strap-tamper": [3, 4, 3], "never-heard": [1, 1, 0],
                    "mains-lost": [2, 1, 1]},
        latencies={"curfew": [120.0, 700.0, 4000.0], "tamper": [1500.0, 5400.0], "exclusion": []},
        hours_caught=80.0, named=2, hours_to_name=8.0,
    )
    return {
        "schema": "tagsim-results", "schema_version": 2,
        "versions": {"tagsim": "0.1.0", "python": "3.11.7", "numpy": "1.26.4", "simpy": "4.1.1"},
        "scenario": {"name": "smoke", "description": 'A quick run <script>alert("x")</script> & more',
                     "subjects": 500, "days": 3.0, "seed": 1, "supplier": "supplier-a"},
        "run": {"started_utc": "2026-11-25T16:20:00Z", "workers": 2,
                "wall_s": {"world": 8.1, "detect": {"naive": 1.2, "standard": 1.5}, "score": 0.2, "total": 11.0}},
        "world": {"subjects": 500, "devices": 520, "messages": 117964, "frames_sent": 120392, "copies_arrived": 119268,
                  "lost": 1236, "corrupted": 12, "duplicated": 112, "acks_lost": 1180, "overwritten": 0,
                  "spurious_leaves": 13, "centre": {"frames": 119256, "records": 119300, "rejected": 12},
                  "truth": {"absent-in-curfew": {"intervals": 20, "hours": 31.5}}},
        "policies": {"naive": naive, "standard": standard},
        "comparison": {"standard/naive": {"alerts_per_subject_day": 0.5, "false_share": 1 / 3, "precision": 2.0,
                                          "recall": 1.08, "latency_median_s": 1.2, "unmonitored_hours_caught": None}},
    }


@pytest.fixture
def empty(results: dict[str, Any]) -> dict[str, Any]:
    """One policy, no alerts at all, no days of alerts, no latencies, nothing unmonitored, no ratio."""
    quiet = copy.deepcopy(results)
    nothing = score(0, 0, 0, 0, None, None)
    naive = policy(overall=nothing, by_family={"curfew": nothing},
                   daily_category={c: [] for c in ("breach", "equipment", "unmonitored", "info")}, daily_kind={},
                   latencies={"curfew": []}, hours_caught=0.0, named=0, hours_to_name=None)
    naive["scorecard"]["unmonitored"].update(devices=0, device_hours=0.0)
    quiet["policies"] = {"naive": naive}
    quiet["comparison"] = {}
    return quiet


class Page(HTMLParser):
    """What the tests look at: every start tag, each figure's images and text, each table's rows of cells."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.figures: dict[str, dict[str, list[str]]] = {}
        self.tables: list[list[list[str]]] = []
        self._figure: str | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        attr = dict(attrs)
        if tag == "figure":
            self._figure = attr["id"]
            self.figures[self._figure] = {"img": [], "text": []}
        elif tag == "img" and self._figure is not None:
            self.figures[self._figure]["img"].append(attr["src"] or "")
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "figure":
            self._figure = None
        elif tag in ("td", "th") and self._cell is not None:
            self.tables[-1][-1].append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._figure is not None:
            self.figures[self._figure]["text"].append(data.strip())


def render(results: dict[str, Any], tmp_path: Path) -> tuple[str, Page]:
    path = tmp_path / "report.html"
    write_report(results, path)
    source = path.read_text(encoding="utf-8")
    page = Page()
    page.feed(source)
    page.close()
    return source, page


def png(src: str) -> bytes:
    prefix = "data:image/png;base64,"
    assert src.startswith(prefix)
    return base64.b64decode(src[len(prefix):], validate=True)


def test_the_report_is_html_with_one_png_per_plot(results: dict[str, Any], tmp_path: Path) -> None:
    _, page = render(results, tmp_path)
    assert page.tags[:3] == ["html", "head", "meta"]
    assert "body" in page.tags and "table" in page.tags
    assert list(page.figures) == list(PLOTS)
    assert page.tags.count("img") == len(PLOTS)
    for plot in PLOTS:
        (src,) = page.figures[plot]["img"]
        assert png(src).startswith(PNG_SIGNATURE), plot
    # Self-contained: nothing fetched from elsewhere.
    assert "link" not in page.tags and "script" not in page.tags


def test_the_scenario_is_named_and_its_text_escaped(results: dict[str, Any], tmp_path: Path) -> None:
    source, page = render(results, tmp_path)
    text = "".join(page.text)
    assert "tagsim run: smoke" in text
    assert "500 subjects, 3 days, seed 1, supplier supplier-a" in text
    assert "tagsim 0.1.0, python 3.11.7, numpy 1.26.4, simpy 4.1.1" in text
    assert "<script>" not in source
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in source
    # Escaped once, not twice: the reader sees the description as it was written.
    assert 'A quick run <script>alert("x")</script> & more' in text


def test_the_scorecard_table_has_each_policy_and_the_ratio(results: dict[str, Any], tmp_path: Path) -> None:
    _, page = render(results, tmp_path)
    scorecard = page.tables[0]
    assert scorecard[0][:5] == ["policy", "alerts per subject-day", "false-alert share", "precision", "recall"]
    rows = {row[0]: row[1:] for row in scorecard[1:]}
    assert list(rows) == ["naive", "standard", "standard/naive"]
    assert rows["naive"] == ["0.040", "60.0%", "40.0%", "83.3%", "15.0", "60.0", "5", "24.0", "96.0", "0.0"]
    assert rows["standard"] == ["0.020", "20.0%", "80.0%", "90.0%", "18.0", "90.0", "3", "4.0", "96.0", "80.0"]
    assert rows["standard/naive"] == ["0.50x", "0.33x", "2.00x", "1.08x", "1.20x", "", "", "", "", "-"]


def test_each_policy_has_a_family_table(results: dict[str, Any], tmp_path: Path) -> None:
    _, page = render(results, tmp_path)
    incidents, naive, standard = page.tables[1], page.tables[2], page.tables[3]
    assert [row[0] for row in incidents] == ["policy", "naive", "standard"]
    assert incidents[0][3] == "incident precision" and incidents[1][3] == "50.0%"
    for table in (naive, standard):
        assert [row[0] for row in table] == ["family", "overall", "curfew", "tamper", "exclusion"]
    exclusion = naive[4]
    # No alerts and no latencies: the undefined figures are "-", the counts still count.
    assert exclusion[1:7] == ["0", "0", "0", "2", "0", "2"]
    assert exclusion[7:10] == ["-", "0.0%", "-"]
    assert exclusion[-2:] == ["-", "-"]
    assert standard[2][7] == "80.0%"  # curfew precision, 16 of 20
    text = "".join(page.text)
    assert "Equipment alerts: 10, 7 real, 3 unexplained." in text
    # A median time to name only where a device was named.
    assert "2 (96.0 device-hours), 0 named, 0.0 hours caught" in text
    assert "2 named, median 8.0 h to name, 80.0 hours caught" in text


def test_no_alerts_no_days_no_ratio_says_none(empty: dict[str, Any], tmp_path: Path) -> None:
    # Without alerts the field force still fits and removes the order flow's kit: its backlog plots.
    _, page = render(empty, tmp_path)
    assert page.tags.count("img") == 1 and len(page.figures["backlog"]["img"]) == 1
    for plot in PLOTS[:-1]:
        assert page.figures[plot]["img"] == []
        assert "none" in page.figures[plot]["text"], plot
    rows = [row[0] for row in page.tables[0][1:]]
    assert rows == ["naive"]
    assert page.tables[0][1][1:5] == ["0.000", "-", "-", "-"]


def test_one_day_and_a_quiet_policy_still_plot(results: dict[str, Any], tmp_path: Path) -> None:
    for p in results["policies"].values():
        for series in p["daily"].values():
            for label in series:
                series[label] = series[label][:1]
    quiet = results["policies"]["standard"]
    quiet["daily"] = {"by_category": {"breach": [0]}, "by_kind": {}}
    quiet["latencies_s"] = {}
    _, page = render(results, tmp_path)
    for plot in PLOTS:
        (src,) = page.figures[plot]["img"]
        assert png(src).startswith(PNG_SIGNATURE), plot


def test_no_policies_at_all(empty: dict[str, Any], tmp_path: Path) -> None:
    empty["policies"] = {}
    _, page = render(empty, tmp_path)
    assert "img" not in page.tags
    assert all("none" in page.figures[plot]["text"] for plot in PLOTS)
    assert format_scorecard(empty).splitlines()[-1] == "none"


def test_format_scorecard(results: dict[str, Any]) -> None:
    lines = format_scorecard(results).splitlines()
    assert len(lines) == 5  # two header lines, two policies, one ratio
    assert max(len(line) for line in lines) <= 110
    by_name = {line.split()[0]: line.split() for line in lines[2:]}
    assert by_name["naive"][1:] == ["0.040", "60.0%", "40.0%", "83.3%", "15.0", "60.0", "5", "24.0", "96.0", "0.0"]
    assert by_name["standard"][1:] == ["0.020", "20.0%", "80.0%", "90.0%", "18.0", "90.0", "3", "4.0", "96.0", "80.0"]
    # The ratio row leaves the columns it has no ratio for blank, and shows its None as "-".
    assert by_name["standard/naive"][1:] == ["0.50x", "0.33x", "2.00x", "1.08x", "1.20x", "-"]
    # Columns are aligned: every figure ends where its header ends.
    header = lines[1]
    end = header.index("precision") + len("precision")
    assert [line[:end].endswith(value) for line, value in zip(lines[2:], ("40.0%", "80.0%", "2.00x"))] == [True] * 3
    assert lines[4].rstrip().endswith("-") and len(lines[4].rstrip()) == len(lines[2].rstrip())


def test_format_incidents_has_a_row_per_policy(results: dict[str, Any]) -> None:
    lines = format_incidents(results).splitlines()
    assert len(lines) == 4  # two header lines, two policies
    # naive: 24 true alerts -> 27 incidents, 12 true, 50%, 12 redundant; 70 items, 70 / 30 per genuine breach
    assert lines[2].split() == ["naive", "27", "12", "50.0%", "60.0", "12", "70", "2.3", "-"]


def test_format_scorecard_shows_none_as_a_dash(empty: dict[str, Any]) -> None:
    (row,) = format_scorecard(empty).splitlines()[2:]
    assert row.split() == ["naive", "0.000", "-", "-", "-", "-", "-", "0", "0.0", "0.0", "0.0"]


@pytest.mark.parametrize("tamper_s", [[5.0, 30.0, 36000.0], [0.0, 30.0, 36000.0]], ids=["log", "with-zero"])
def test_latencies_spread_wide_still_plot(results: dict[str, Any], tmp_path: Path, tamper_s: list[float]) -> None:
    results["policies"]["standard"]["latencies_s"]["tamper"] = tamper_s
    _, page = render(results, tmp_path)
    (src,) = page.figures["latency"]["img"]
    assert png(src).startswith(PNG_SIGNATURE)


def test_the_calibration_table_puts_each_published_figure_beside_each_policy(results: dict[str, Any], tmp_path: Path) -> None:
    results["calibration"] = {"bounds": {"alerts_per_person_day": [0.3, 1.25]}, "figures": [
        {"name": "US average", "measure": "alerts_per_person_day", "published": 1.25, "source": "testimony",
         "tagsim": {"naive": 2.5, "standard": 0.5}, "ratio": {"naive": 2.0, "standard": 0.4}},
        {"name": "Arizona (up to)", "measure": "false_share", "published": 0.7, "source": "Armstrong and Freeman",
         "tagsim": {"naive": None, "standard": 0.35}, "ratio": {"naive": None, "standard": 0.5}},
    ]}
    lines = format_calibration(results).splitlines()
    assert lines[2].split() == ["US", "average", "1.250", "2.500", "2.00x", "0.500", "0.40x"]
    assert lines[3].split() == ["Arizona", "(up", "to)", "70.0%", "-", "-", "35.0%", "0.50x"]
    text, page = render(results, tmp_path)
    assert "Armstrong and Freeman" in text
    assert [row[0] for row in page.tables[1 + 1]] == ["published figure", "US average", "Arizona (up to)"]


def test_the_service_tables_give_each_policy_its_classes_centre_jobs_and_field(results: dict[str, Any],
                                                                              tmp_path: Path) -> None:
    lines = format_operations(results).splitlines()
    rows = [line.split() for line in lines if line.split() and line.split()[0] in ("naive", "standard")]
    policies = ("naive", "standard")
    classes = ("breach", "tamper", "equipment", "unmonitored", "charging", "notified")
    assert [r[:2] for r in rows[:12]] == [[p, c] for p in policies for c in classes]
    assert rows[0][2:4] == ["60", "60"] and rows[6][2:4] == ["30", "30"]  # every alert taken up
    assert [r[0] for r in rows[12:14]] == list(policies) and rows[12][1] == "28/21"
    jobs = load_field().job_names
    assert [r[:2] for r in rows[14:24]] == [[p, j] for p in policies for j in jobs]
    assert [r[0] for r in rows[24:]] == list(policies) and rows[24][1] == "/".join(map(str, load_field().rota.at_work))
    _, page = render(results, tmp_path)
    titles = [t[0] for t in page.tables if t and t[0][:2] in (["policy", "class"], ["policy", "job"])]
    assert len(titles) == 2 and titles[0][-1] == titles[1][-1] == "within deadline"
