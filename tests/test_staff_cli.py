"""``tagsim staff``: the fewest operators and field officers a shift for each policy, from a
simulated run, beside today's roster."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sim.cli import main
from sim.operations.centre.params import load_centre
from sim.operations.field.params import load_field

SMALL = ["--subjects", "60", "--days", "1", "--workers", "1"]
ROW = re.compile(r"(\w+)\s+(operators|field officers)\s+(\S+)\s+(\w+ [\d.]+%|-)\s+(\S+)\s+(\S+)\s+(\S+)\s+"
                 r"(\w+ [\d.]+%|-)\s+(\d+)\s+(\d+)")


def test_staff_gives_each_policy_its_fewest_operators_and_officers_beside_todays(
        capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["staff", *SMALL, "--target", "95", "--json", str(tmp_path / "staff.json")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("At today's staff (operators 40/30")
    heading = next(i for i, line in enumerate(out) if "target 95% of every alert class" in line)
    rows = [ROW.fullmatch(line.strip()) for line in out[heading + 3 : heading + 7]]
    assert all(rows), out
    assert "At the staff needed:" in out[heading + 8]
    today = {"operators": "/".join(map(str, load_centre().rota.staff)),
             "field officers": "/".join(map(str, load_field().rota.staff))}
    seen = set()
    for row in rows:
        assert row is not None
        policy, staff, roster, _, needed, at_work, _, lowest, guess, tried = row.groups()
        seen.add((policy, staff))
        assert roster == today[staff]
        assert len(needed.split("/")) == len(roster.split("/")) == len(at_work.split("/"))
        assert float(lowest.split()[1].rstrip("%")) >= 95.0 and int(guess) >= 1 and int(tried) >= 1
    assert seen == {(p, s) for p in ("reference", "standard") for s in today}
    written = json.loads((tmp_path / "staff.json").read_text())
    assert (written["schema"], written["target"], written["scenario"]["subjects"]) == ("tagsim-staffing", 0.95, 60)
    for name, policy in written["policies"].items():
        needed = policy["needed"]
        operators, officers = needed["operators"]["staff"], needed["field_officers"]["staff"]
        assert [operators, True] in needed["operators"]["tried"] and [officers, True] in needed["field_officers"]["tried"]
        assert policy["at_needed"]["centre"]["operators"]["rostered"] == operators
        assert policy["at_needed"]["field"]["officers"]["rostered"] == officers
        assert policy["today"]["centre"]["operators"]["rostered"] == list(load_centre().rota.staff)


@pytest.mark.parametrize("level", ["0", "100", "ninety"])
def test_a_target_outside_1_to_99_is_refused(level: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "--target", level]) == 2
    assert "--target" in capsys.readouterr().err
