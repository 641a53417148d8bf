"""The account: every stored message at the centre exactly once, or lost with its reason."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import numpy as np
import pytest

from firmware_stubs.alcohol_tag import standalone as alcohol_tag
from firmware_stubs.kinds import build_standalone
from firmware_stubs.protocol import Ack, Frame, StreamDecoder, encode_frame
from sim.proxy.accounting import (
    MISSING,
    QUEUE_OVERFLOW,
    Arrival,
    Key,
    UploadLog,
    UploadLogError,
    UploadLogFile,
    account,
    read_upload_logs,
)
from sim.realtime import set_upload_log
from sim.scenario import default_device_params

T = 1_700_000_000_000


def write_log(path: Path, lines: list[str]) -> Path:
    path.write_text('{"format": "tagsim-upload-log", "version": 1}\n' + "".join(line + "\n" for line in lines))
    return path


def stored(seq: int) -> str:
    return f'{{"device": 5, "seq": {seq}, "event_time_ms": {T + seq}, "type": "alcohol_reading"}}'


def test_each_event_is_once_at_the_centre_or_lost_with_its_reason(tmp_path: Path) -> None:
    log = read_upload_logs([write_log(tmp_path / "u.jsonl", [stored(s) for s in range(6)] + ['{"device": 5, "seq": 0, "overwritten": true}'])])
    arrivals = [Arrival(5, s, T + s) for s in (2, 1, 2, 4, 2, 1)]  # late, resent and duplicated copies
    result = account(log, arrivals)
    d = result.devices[5]
    assert (d.logged, d.delivered, d.records, d.copies_dropped) == (6, 3, 6, 3)
    assert [(lost.key.seq, lost.reason) for lost in result.lost] == [(0, QUEUE_OVERFLOW), (3, MISSING), (5, MISSING)]
    assert result.duplicated == [] and result.unexpected == []
    assert "device 5 seq 0 event time" in result.report() and "queue_overflow" in result.report()


def test_an_overwritten_event_that_got_through_before_is_at_the_centre_not_lost(tmp_path: Path) -> None:
    # Sent and received, its ack lost, then overwritten: the centre has it all the same.
    log = read_upload_logs([write_log(tmp_path / "u.jsonl", [stored(0), '{"device": 5, "seq": 0, "overwritten": true}'])])
    assert account(log, [Arrival(5, 0, T)]).lost == []


def test_a_copy_the_window_has_seen_is_dropped_and_a_record_no_logged_event_matches_is_unexpected(tmp_path: Path) -> None:
    log = read_upload_logs([write_log(tmp_path / "u.jsonl", [stored(0)])])
    # The same number with another event time (damage the CRC missed), and a device with no log.
    arrivals = [Arrival(5, 0, T), Arrival(5, 1, T + 99), *[Arrival(6, s, T) for s in range(3)], Arrival(5, 0, T)]
    result = account(log, arrivals)
    assert result.unexpected == [Arrival(5, 1, T + 99), Arrival(6, 0, T), Arrival(6, 1, T), Arrival(6, 2, T)]
    assert result.duplicated == [] and result.devices[5].copies_dropped == 1 and result.lost == []


def test_a_copy_let_through_again_by_a_reboot_the_centre_saw_is_duplicated(tmp_path: Path) -> None:
    log = read_upload_logs([write_log(tmp_path / "u.jsonl", [stored(0), stored(1)])])
    arrivals = [Arrival(5, 0, T), Arrival(5, 1, T + 1), Arrival(5, 0, T + 1, reboot=True), Arrival(5, 0, T)]
    result = account(log, arrivals)
    assert result.duplicated == [Key(5, 0, T)] and result.devices[5].delivered == 1
    assert "NOT exactly once" in result.report()


def test_a_full_queue_logs_exactly_the_oldest_entries_it_overwrites(tmp_path: Path) -> None:
    params = default_device_params()
    params = dataclasses.replace(params, alcohol_tag=dataclasses.replace(params.alcohol_tag, queue_capacity=3))
    tag = alcohol_tag(5, 0.0, params, np.random.default_rng(0))
    out = io.StringIO()
    set_upload_log(tag, UploadLogFile(out))
    reading = params.alcohol_tag.reading_interval_s
    tag.tick(5.5 * reading)  # five readings, nothing acked
    log = _read(out, tmp_path)
    assert [k.seq for k in log.stored] == [0, 1, 2, 3, 4] and log.overwritten == {(5, 0), (5, 1)}
    tag.receive(tag.now, encode_frame(Frame(5, 0, 0, Ack(2))))  # 2 acked: 3 and 4 still queued
    tag.tick(6.5 * reading)  # a sixth reading: the queue has room, nothing overwritten
    assert _read(out, tmp_path).overwritten == {(5, 0), (5, 1)}


def test_a_base_unit_logs_the_installation_it_stored_before_the_log_was_attached(tmp_path: Path) -> None:
    unit = build_standalone("base-unit", 40, 0.0, default_device_params(), np.random.default_rng(0))
    out = io.StringIO()
    set_upload_log(unit, UploadLogFile(out))
    unit.tick(0.0)
    wire = StreamDecoder().feed(unit.drain())
    assert _read(out, tmp_path).stored == [Key(40, f.seq, f.event_time_ms) for f in wire] and len(wire) == 1


def test_a_last_line_cut_short_is_left_out_and_a_bad_line_is_named(tmp_path: Path) -> None:
    path = write_log(tmp_path / "u.jsonl", [stored(0)])
    path.write_text(path.read_text() + stored(1)[:20])
    assert [k.seq for k in read_upload_logs([path]).stored] == [0]
    bad = write_log(tmp_path / "bad.jsonl", [stored(0), '{"device": 5}', stored(2)])
    with pytest.raises(UploadLogError, match=r"bad.jsonl line 3: "):
        read_upload_logs([bad])
    no_header = tmp_path / "no-header.jsonl"
    no_header.write_text(stored(0) + "\n")
    with pytest.raises(UploadLogError, match=r"no-header.jsonl line 1: .*header"):
        read_upload_logs([no_header])


def _read(out: io.StringIO, tmp_path: Path) -> UploadLog:
    path = tmp_path / "device.jsonl"
    path.write_text(out.getvalue())
    return read_upload_logs([path])
