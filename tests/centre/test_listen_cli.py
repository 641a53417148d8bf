"""``tagsim listen``: the live centre on a port, from the command line."""

from __future__ import annotations

import re

import pytest

from firmware_stubs.wiring import Assembly
from sim.cli import main
from sim.realtime import serving_machine


@pytest.mark.pty
def test_listen_prints_each_alert_as_it_happens_and_a_summary(capsys: pytest.CaptureFixture[str], severed_unit: Assembly) -> None:
    unit = severed_unit.device.device_id
    with serving_machine(severed_unit, "base-unit") as path:
        assert main(["listen", path, "--kind", "base-unit", "--device-id", str(unit), "--policy", "naive",
                     "--for", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert any(re.fullmatch(rf"[0-9.]+ naive: raised alert \d+ strap-tamper \(breach\) device {unit}", line)
               for line in out), out
    summary = out[-1]
    assert summary.startswith("listened 2 s: ") and "alerts: naive 1" in summary
    frames = int(re.search(r"(\d+) frames", summary).group(1))
    acks = int(re.search(r"(\d+) acks sent", summary).group(1))
    assert frames >= 1 and acks >= 1


def test_listen_to_a_port_that_is_not_there_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["listen", "/dev/tagsim-no-such-port", "--kind", "gps-tag", "--for", "1"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == "tagsim: error: cannot open /dev/tagsim-no-such-port: no such file or directory"


@pytest.mark.parametrize("argv", [["listen", "--kind", "gps-tag"], ["listen", "/dev/x"],
                                  ["listen", "/dev/x", "--kind", "pager"], ["listen", "/dev/x", "--kind", "gps-tag", "--for", "0"]])
def test_listen_refuses_bad_arguments_before_opening_anything(capsys: pytest.CaptureFixture[str], argv: list[str]) -> None:
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err


def test_listen_refuses_a_policy_named_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["listen", "/dev/x", "--kind", "gps-tag", "--policy", "naive", "--policy", "naive"]) == 1
    assert "named twice" in capsys.readouterr().err
