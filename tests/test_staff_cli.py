"""``tagsim staff``: the fewest operators a shift for each policy, from a simulated run."""

from __future__ import annotations

import re

import pytest

from sim.cli import main

SMALL = ["--subjects", "60", "--days", "1", "--workers", "1"]


def test_staff_gives_each_policy_its_fewest_operators(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", *SMALL, "--service-level", "95"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "every class 95% within its deadline" in out[0]
    answers = {}
    for line in out[1:]:
        found = re.match(r"(\w+): (\d+) operators a shift \((\d+) at desks\).*Erlang C first guess (\d+); tried (.*)", line)
        assert found, line
        answers[found.group(1)] = int(found.group(2))
        shares = [float(x) for x in re.findall(r"(\d+\.\d)%", line)]
        assert shares and min(shares) >= 95.0
    assert set(answers) == {"reference", "standard"} and all(n >= 2 for n in answers.values())


@pytest.mark.parametrize("level", ["0", "100", "ninety"])
def test_a_service_level_outside_1_to_99_is_refused(level: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "--service-level", level]) == 2
    assert "--service-level" in capsys.readouterr().err
