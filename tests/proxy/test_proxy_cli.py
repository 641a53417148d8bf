"""tagsim proxy from the command line: a user's mistake is one line; a run prints the faults its
log holds and the account of the device's upload log."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections import Counter
from contextlib import suppress
from pathlib import Path

import pytest

from firmware_stubs.protocol import Config, ConfigParam, Frame, encode_frame
from sim.centre.live import port_case
from sim.centre.receiver import Receiver
from sim.cli import main
from sim.detector.cases import CaseBook
from sim.links import LinkError, SerialLink

from processes import first_line, stop_process

TIMEOUT_S = 60.0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["/dev/no-such-port", "pty"], "/dev/no-such-port"),
        (["pty", "tcp:127.0.0.1"], "expected tcp:HOST:PORT"),
        (["pty", "pty", "--drop", "1.5"], "--drop 1.5 is not a probability between 0 and 1"),
        (["pty", "pty", "--reorder", "-0.5"], "--reorder -0.5 is not a probability"),
        (["pty", "pty", "--cut", "5"], "--cut 5: expected EVERY/FOR"),
        (["pty", "pty", "--cut", "2/3"], "--cut 2/3: the cut must last more than 0 and less than its period"),
        (["pty", "pty", "--upload-log", "/no/such/upload.jsonl"], "no upload log at /no/such/upload.jsonl"),
    ],
)
def test_a_mistake_is_one_line_and_exit_1(args: list[str], says: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["proxy", *args]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("tagsim: error: ") and says in err, err


@pytest.mark.pty
def test_a_run_prints_the_faults_it_logged_and_accounts_for_the_devices_upload_log(tmp_path: Path) -> None:
    upload, faults = tmp_path / "upload.jsonl", tmp_path / "faults.jsonl"
    stub = subprocess.Popen([sys.executable, "-m", "sim", "stub", "base-unit", "--device-id", "5", "--upload-log", str(upload)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    proxy = None
    try:
        device_port = first_line(stub)
        proxy = subprocess.Popen([sys.executable, "-m", "sim", "proxy", device_port, "pty", "--drop", "0.3", "--duplicate",
                                  "0.2", "--seed", "3", "--duration", "4", "--log", str(faults), "--upload-log", str(upload)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        receiver = Receiver(CaseBook([port_case("base-unit", 5, time.time())]))
        config = encode_frame(Frame(5, 1, 0, Config({ConfigParam.RETRANSMIT_TIMEOUT_MS: 300, ConfigParam.STATUS_INTERVAL_MS: 300})))
        with SerialLink(first_line(proxy)) as centre, suppress(LinkError):  # the proxy's PTY goes when it stops
            while proxy.poll() is None:  # the centre: acks what comes, and speeds the unit up
                centre.write(config)
                data = centre.read(0.1)
                receiver.receive(centre.name, data, time.time())
                centre.write(receiver.take_acks(centre.name))
        out, err = proxy.communicate(timeout=TIMEOUT_S)
    finally:
        for proc in (stub, proxy):
            if proc is not None:
                stop_process(proc)
    assert proxy.returncode == 0 and err == "", err
    summary = next(line for line in out.splitlines() if line.startswith("proxy: "))
    entries = [json.loads(line) for line in faults.read_text().splitlines()]
    assert entries[0]["seed"] == 3 and entries[0]["faults"]["drop"] == 0.3
    counts = Counter((e["dir"], e["fault"]) for e in entries[1:])
    assert summary.endswith(", ".join(f"{d} {fault} {n}" for (d, fault), n in sorted(counts.items())))
    assert counts["a>b", "drop"] > 0  # dozens of frames at 0.3
    logged = sum("event_time_ms" in line for line in upload.read_text().splitlines())
    row = next(line for line in out.splitlines() if line.split()[:1] == ["5"]).split()
    assert 3 <= int(row[1]) <= logged  # installation and status checks; the unit stored on after the account
    assert int(row[2]) + int(row[3]) == int(row[1])  # each at the centre once, or lost
    assert len(re.findall(r"^lost: device 5 seq \d+ .*: missing$", out, re.M)) == int(row[3])
