"""The tagsim command: `stub` serves a kind on a PTY and stops cleanly; user errors are one line."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time

import pytest

from firmware_stubs.kinds import KINDS
from firmware_stubs.protocol import Config, ConfigParam, Frame, RfBeacon, StreamDecoder, encode_frame
from sim import scenario
from sim.cli import main
from sim.links import SerialLink

DEVICE_ID = 9
TIMEOUT_S = 10.0


def read_line(proc: subprocess.Popen, timeout: float) -> str:
    """The child's next stdout line, or fail (with its stderr) instead of hanging."""
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    if not ready:
        proc.kill()
        pytest.fail(f"no line on stdout within {timeout} s; stderr: {proc.communicate()[1]!r}")
    return proc.stdout.readline().rstrip("\n")


@pytest.mark.pty
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stub_serves_beacons_on_a_pty_and_stops_cleanly_on_a_signal(stop_signal):
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "stub", "rf-tag", "--device-id", str(DEVICE_ID), "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        path = read_line(proc, TIMEOUT_S)
        assert path.startswith("/dev/"), path
        decoder = StreamDecoder()
        beacons = []
        with SerialLink(path) as link:
            link.write(encode_frame(Frame(DEVICE_ID, 1, 0, Config({ConfigParam.BEACON_INTERVAL_MS: 100}))))
            deadline = time.monotonic() + 5.0
            while len(beacons) < 3 and time.monotonic() < deadline:
                beacons += [f for f in decoder.feed(link.read(0.05)) if isinstance(f.message, RfBeacon)]
        assert len(beacons) >= 3 and {f.device_id for f in beacons} == {DEVICE_ID}
        proc.send_signal(stop_signal)
        _, stderr = proc.communicate(timeout=TIMEOUT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr
    assert stderr.startswith("tagsim: stub rf-tag stopped: ") and stderr.count("\n") == 1, stderr
    assert not os.path.exists(path), "the PTY outlived the stub"


def test_unknown_kind_is_one_line_naming_the_kinds_and_exit_2(capsys):
    assert main(["stub", "no-such-kind"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("tagsim: error: unknown device kind 'no-such-kind'")
    assert all(kind in err for kind in KINDS)


def test_broken_parameter_file_is_one_line_not_a_traceback(capsys, monkeypatch, tmp_path):
    (tmp_path / "devices").mkdir()
    (tmp_path / "devices" / "defaults.toml").write_text("[uplink\n")
    monkeypatch.setattr(scenario, "seeds_dir", lambda: tmp_path)  # where the device defaults are read
    assert main(["stub", "rf-tag"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("tagsim: error: ") and "defaults.toml: not valid TOML" in err


@pytest.mark.parametrize(
    "argv",
    [["stub", "rf-tag", "--device-id", "-1"], ["stub", "rf-tag", "--seed", "x"], []],
    ids=["negative-device-id", "seed-not-a-number", "no-command"],
)
def test_bad_arguments_exit_2_without_starting(capsys, argv):
    assert main(argv) == 2
    assert "error:" in capsys.readouterr().err
