"""``tagsim harness``: every stub passes over a real PTY through pyserial; a bad port is one line."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from firmware_stubs.kinds import KINDS
from sim.cli import main

pytestmark = pytest.mark.pty


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    """``tagsim stub KIND`` in a subprocess; yields its PTY path."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "stub", request.param, "--device-id", "31"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        path = proc.stdout.readline().strip()
        assert path.startswith("/dev/"), proc.stderr.read() if proc.stderr else path
        yield path
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise


@pytest.mark.parametrize("served", KINDS, indirect=True)
def test_every_stub_passes_the_harness_over_a_pty(
    served: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "harness.log"
    status = main(["harness", served, "--interval", "0.25", "--log", str(log)])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "device 31" in out and "FAIL" not in out
    assert out.rstrip().endswith(f"all checks passed; log: {log}")
    assert " tx " in log.read_text() and " rx " in log.read_text()


def test_missing_port_is_one_line_and_non_zero() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "harness", "/dev/does-not-exist"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert proc.stderr == "tagsim: error: cannot open /dev/does-not-exist: no such file or directory\n"


def test_unwritable_log_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status = main(["harness", "loop://", "--log", str(tmp_path / "no" / "such" / "dir.log")])
    err = capsys.readouterr().err
    assert status == 1
    assert err.startswith("tagsim: error: cannot write the log ") and err.count("\n") == 1


def test_silent_port_fails_with_the_evidence(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """``loop://`` echoes the harness's own commands back: no device ever acks."""
    status = main(["harness", "loop://", "--interval", "0.1", "--log", str(tmp_path / "h.log")])
    out = capsys.readouterr().out
    assert status == 1
    assert "command ack" in out and "FAIL" in out
    assert "expected an ack of configuration seq 1" in out
    assert "no frames received" in out and "echo of our own commands" in out
    assert f"log: {tmp_path / 'h.log'}" in out


def test_stub_option_serves_and_tests_in_one_command(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    status = main(["harness", "--stub", "rf-tag", "--interval", "0.25", "--log", str(tmp_path / "h.log")])
    out = capsys.readouterr().out
    assert status == 0, out
    assert "(rf-tag)" in out and "all checks passed" in out


@pytest.mark.parametrize("argv", [["harness"], ["harness", "loop://", "--stub", "rf-tag"]], ids=["neither", "both"])
def test_port_or_stub_exactly_one(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "PORT" in err and "--stub" in err
