"""``Receiver.receive_batch`` (frames decoded together) is held to ``receive`` (frame by frame):
the same records in the same order, the same stats, set-asides, decoder tallies, ack tracking and acks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from firmware_stubs.protocol import (
    Ack,
    AlcoholFlags,
    AlcoholReading,
    BaseEventCode,
    BaseUnitEvent,
    Config,
    ConfigParam,
    Frame,
    GpsFixBatch,
    GpsFlags,
    GpsStatus,
    RfBeacon,
    TagFlags,
    TimeSync,
    UnitFlags,
    encode_frame,
    make_wire_fixes,
)
from receiver_cases import ALCOHOL, CASES, GPS, STRANGER, TAG, UNIT
from sim.centre import Receiver
from sim.detector.telemetry import to_batch

T0_MS = 1_700_000_000_000


@st.composite
def gps_batches(draw: st.DrawFn) -> GpsFixBatch:
    n = draw(st.integers(0, 30))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    return GpsFixBatch(make_wire_fixes(T0_MS + rng.integers(0, 10**9, n), rng.integers(-900_000_000, 900_000_000, n),
                                       rng.integers(-1_800_000_000, 1_800_000_000, n), rng.integers(0, 0xFFFF, n),
                                       rng.integers(0, 0xFF, n)))


MESSAGES = st.one_of(
    st.builds(BaseUnitEvent, st.sampled_from(BaseEventCode), st.integers(0, 2**32 - 1), st.integers(0, 0xFF).map(TagFlags),
              st.integers(0, 0xFF).map(UnitFlags), st.integers(0, 100)),
    st.builds(GpsStatus, st.integers(0, 100), st.integers(0, 0xFF).map(GpsFlags)),
    st.builds(AlcoholReading, st.integers(0, 0xFFFF), st.integers(-0x8000, 0x7FFF), st.integers(0, 0xFF).map(AlcoholFlags)),
    gps_batches(),
    st.builds(RfBeacon, st.integers(0, 0xFF).map(TagFlags)),
    st.builds(Ack, st.integers(0, 0xFFFF)),
    st.builds(TimeSync, st.integers(0, 2**64 - 1)),
    st.builds(Config, st.dictionaries(st.sampled_from(ConfigParam), st.integers(0, 2**32 - 1), max_size=3)),
)
SENT = st.tuples(
    st.sampled_from([1, 2, 3]),  # link
    st.sampled_from([UNIT, TAG, GPS, ALCOHOL, STRANGER]),
    st.one_of(st.integers(0, 80), st.integers(0, 0xFFFF)),  # low numbers far behind the newest look like restarts
    st.integers(-1000, 10**6),  # event-time step, ms
    MESSAGES,
    st.sampled_from(["whole"] * 6 + ["changed", "again", "split", "noise", "merged"]),
    st.integers(0, 2**16),  # where a change or split falls
    st.integers(1, 255),  # what a changed byte is XORed with
)


def _chunks(sent: list[tuple]) -> tuple[list[int], list[bytes], list[float]]:  # type: ignore[type-arg]
    links, chunks, nows = [], [], []
    t_ms = T0_MS
    for n, (link, device, seq, step, message, how, where, mask) in enumerate(sent):
        t_ms = max(0, t_ms + step)
        data = encode_frame(Frame(device, seq, t_ms, message))
        at = 1 + where % (len(data) - 2)
        if how == "changed":  # one byte inside the frame changed, never to a delimiter (as the network does)
            data = data[:at] + bytes([data[at] ^ mask or 1]) + data[at + 1 :]
        if how == "again" and chunks:
            data = chunks[where % len(chunks)]
        parts = {"split": [data[:at], data[at:]], "noise": [data[:at] + bytes([mask])], "merged": [data + data]}.get(how, [data])
        for part in parts:
            links.append(link)
            chunks.append(part)
            nows.append(100.0 + n * 0.37)
    return links, chunks, nows


@given(st.lists(SENT, max_size=40), st.booleans())
@settings(max_examples=300, deadline=None)
def test_a_batch_decoded_together_is_what_receive_makes_of_it_frame_by_frame(sent: list[tuple], acks: bool) -> None:  # type: ignore[type-arg]
    links, chunks, nows = _chunks(sent)
    cut = len(chunks) // 2  # two batches: tracking, and any frame held back in a decoder, carry across
    one_by_one, batch = Receiver(CASES, acks=acks), Receiver(CASES, acks=acks)
    records = [r for link, chunk, now in zip(links, chunks, nows, strict=True) for r in one_by_one.receive(link, chunk, now)]
    first = batch.receive_batch(links[:cut], chunks[:cut], nows[:cut])
    second = batch.receive_batch(links[cut:], chunks[cut:], nows[cut:])
    want_events, want_fixes = to_batch(records)
    events, fixes = (np.concatenate((a, b)) for a, b in zip(first, second, strict=True))
    events["order"][len(first[0]) :] += len(first[0]) + len(np.unique(first[1]["order"]))
    fixes["order"][len(first[1]) :] += len(first[0]) + len(np.unique(first[1]["order"]))
    assert events.tobytes() == want_events.tobytes() and fixes.tobytes() == want_fixes.tobytes()
    assert batch.stats == one_by_one.stats
    assert list(batch.set_aside) == list(one_by_one.set_aside)
    assert {link: (d.stats, list(d.recent_rejects), d.at_frame_boundary) for link, d in batch._decoders.items()} == {
        link: (d.stats, list(d.recent_rejects), d.at_frame_boundary) for link, d in one_by_one._decoders.items()}
    assert batch._sequences._tracks == one_by_one._sequences._tracks
    assert [batch.take_acks(link) for link in (1, 2, 3)] == [one_by_one.take_acks(link) for link in (1, 2, 3)]


def test_a_fleet_s_batch_of_whole_frames_and_changed_copies_keeps_every_reject_in_order() -> None:
    frames = [encode_frame(Frame(UNIT, seq, T0_MS + seq, BaseUnitEvent(BaseEventCode.STATUS_CHECK))) for seq in range(200)]
    chunks = [f if seq % 7 else f[:5] + bytes([f[5] ^ 0x21 or 1]) + f[6:] for seq, f in enumerate(frames)]
    one_by_one, batch = Receiver(CASES, acks=False), Receiver(CASES, acks=False)
    records = [r for seq, chunk in enumerate(chunks) for r in one_by_one.receive(seq % 2, chunk, float(seq))]
    events, fixes = batch.receive_batch([seq % 2 for seq in range(200)], chunks, [float(seq) for seq in range(200)])
    assert events.tobytes() == to_batch(records)[0].tobytes() and len(fixes) == 0
    assert batch.stats == one_by_one.stats and batch.stats.rejected_total == 29
    assert list(batch.set_aside) == list(one_by_one.set_aside)
