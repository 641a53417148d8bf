"""Recording a session and replaying it: same bytes, tx checked, broken files reported by line and byte."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from sim.links import LinkError, RecordingLink, ReplayLink, SerialLink, TxMismatch

CHUNKS = [b"\x00\x01config\x00", b"\x00\x02time-sync\x00", b"\x00\x03ack\x00"]


def read_all(link, size: int, timeout: float = 5.0) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while len(got) < size and time.monotonic() < deadline:
        got += link.read(0.1)
    return got


def record_loop_session(path: Path) -> list[bytes]:
    """Write each chunk over loop:// and read it back; returns what was read."""
    received = []
    with RecordingLink(SerialLink("loop://"), path) as link:
        for chunk in CHUNKS:
            link.write(chunk)
            received.append(read_all(link, len(chunk)))
    return received


def write_recording(path: Path, records: list[dict]) -> None:
    header = {"format": "tagsim-link-recording", "version": 1, "link": "/dev/ttyTEST"}
    path.write_text("".join(json.dumps(r) + "\n" for r in [header, *records]))


def test_recording_writes_a_header_then_every_chunk_in_order(tmp_path):
    path = tmp_path / "session.jsonl"
    assert record_loop_session(path) == CHUNKS
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert lines[0] == {"format": "tagsim-link-recording", "version": 1, "link": "loop://"}
    assert [(r["dir"], bytes.fromhex(r["hex"])) for r in lines[1:]] == [
        (d, c) for c in CHUNKS for d in ("tx", "rx")
    ]
    times = [r["t"] for r in lines[1:]]
    assert times == sorted(times) and times[0] >= 0


def test_replay_gives_back_the_recorded_bytes(tmp_path):
    path = tmp_path / "session.jsonl"
    record_loop_session(path)
    replay = ReplayLink(path)
    assert replay.recorded_link == "loop://"
    for chunk in CHUNKS:
        replay.write(chunk)
        assert replay.read(0) == chunk
    assert replay.read(0) == b""
    assert replay.mismatches == []


def test_rx_is_held_until_the_host_has_sent_what_came_before_it(tmp_path):
    path = tmp_path / "session.jsonl"
    write_recording(path, [{"t": 0.0, "dir": "tx", "hex": "0102"}, {"t": 0.0, "dir": "rx", "hex": "aa"}])
    replay = ReplayLink(path)
    assert replay.read(0) == b""
    replay.write(b"\x01")
    assert replay.read(0) == b""
    replay.write(b"\x02")
    assert replay.read(0) == b"\xaa"


def test_tx_mismatch_is_kept_with_its_offset(tmp_path):
    path = tmp_path / "session.jsonl"
    record_loop_session(path)
    replay = ReplayLink(path)
    replay.write(CHUNKS[0])
    wrong = CHUNKS[1].replace(b"sync", b"SYNC")
    replay.write(wrong)
    offset = len(CHUNKS[0]) + CHUNKS[1].index(b"sync")
    assert replay.mismatches == [TxMismatch(offset, CHUNKS[1], wrong)]


def test_sending_more_than_was_recorded_is_a_mismatch(tmp_path):
    path = tmp_path / "session.jsonl"
    write_recording(path, [{"t": 0.0, "dir": "tx", "hex": "01"}])
    replay = ReplayLink(path)
    replay.write(b"\x01\x02")
    assert replay.mismatches == [TxMismatch(1, b"\x01", b"\x01\x02")]


def test_strict_replay_raises_naming_the_offset(tmp_path):
    path = tmp_path / "session.jsonl"
    record_loop_session(path)
    replay = ReplayLink(path, strict=True)
    with pytest.raises(LinkError, match=r"at tx offset 2,"):
        replay.write(b"\x00\x01CONFIG\x00")


def test_cut_file_reports_file_and_line_after_replaying_the_lines_before_it(tmp_path):
    path = tmp_path / "session.jsonl"
    record_loop_session(path)
    text = path.read_text()
    path.write_text(text[: len(text) - 10])  # cut inside the last line, the third rx
    replay = ReplayLink(path)
    assert replay.error is not None
    for chunk in CHUNKS[:2]:
        replay.write(chunk)
        assert replay.read(0) == chunk
    replay.write(CHUNKS[2])
    with pytest.raises(LinkError) as info:
        replay.read(0)
    start = len("\n".join(text.splitlines()[:6])) + 1  # line 7 begins after six lines and their ends
    assert str(info.value).startswith(f"{path} line 7 (byte {start}): not a whole JSON record")
    assert "\n" not in str(info.value)


def test_bad_record_in_the_middle_ends_the_recording_there(tmp_path):
    path = tmp_path / "session.jsonl"
    write_recording(
        path,
        [
            {"t": 0.0, "dir": "rx", "hex": "01"},
            {"t": 0.1, "dir": "sideways", "hex": "02"},
            {"t": 0.2, "dir": "rx", "hex": "03"},
        ],
    )
    replay = ReplayLink(path)
    assert replay.read(0) == b"\x01"
    with pytest.raises(LinkError, match=rf"^{path} line 3 \(byte \d+\): dir 'sideways'"):
        replay.read(0)


@pytest.mark.parametrize(
    "first_line, problem",
    [
        ('{"format": "something-else", "version": 1, "link": "x"}', "not a tagsim-link-recording header"),
        ('{"format": "tagsim-link-recording", "version": 2, "link": "x"}', "recording version 2"),
        ('{"format": "tagsim-link-rec', "not a whole JSON record"),
    ],
    ids=["other-format", "newer-version", "cut-header"],
)
def test_bad_header_is_refused_naming_line_1(tmp_path, first_line, problem):
    path = tmp_path / "session.jsonl"
    path.write_text(first_line + "\n")
    with pytest.raises(LinkError, match=rf"^{path} line 1: {problem}"):
        ReplayLink(path)


def test_missing_recording_names_the_file(tmp_path):
    path = tmp_path / "absent.jsonl"
    with pytest.raises(LinkError, match=rf"^cannot open {path}: no such file or directory$"):
        ReplayLink(path)


def test_realtime_replay_holds_each_chunk_until_its_time(tmp_path):
    path = tmp_path / "session.jsonl"
    write_recording(path, [{"t": 0.3, "dir": "rx", "hex": "01"}])
    replay = ReplayLink(path, realtime=True)
    start = time.monotonic()
    assert replay.read(0.05) == b""
    assert replay.read(2.0) == b"\x01"
    assert 0.25 <= time.monotonic() - start < 1.5
