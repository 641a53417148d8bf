"""The harness's device session acks as the centre does: cumulatively, in order, restarts included."""

from __future__ import annotations

from pathlib import Path

from firmware_stubs.protocol import (
    Ack,
    BaseEventCode,
    BaseUnitEvent,
    SEQ_MODULUS,
    Frame,
    StreamDecoder,
    TagFlags,
    UnitFlags,
    encode_frame,
)
from sim.centre.acks import REBOOT_MARGIN
from sim.device_session import DeviceSession

UNIT = 70
T0_MS = 1_700_000_000_000
STATUS = BaseUnitEvent(BaseEventCode.STATUS_CHECK, UNIT + 1, TagFlags.NONE, UnitFlags.TAG_PRESENT, 97)


class ScriptedLink:
    """A link whose reads give what the test queued, and whose writes are kept."""

    name = "scripted"

    def __init__(self) -> None:
        self.incoming: list[bytes] = []
        self.written = bytearray()

    def write(self, data: bytes) -> None:
        self.written += data

    def read(self, timeout: float) -> bytes:
        return self.incoming.pop(0) if self.incoming else b""

    def close(self) -> None:
        pass


def acked(session: DeviceSession, link: ScriptedLink, seqs: list[int], t_ms: list[int] | None = None) -> list[int]:
    """Feed frames with these sequence numbers one read each; the seqs the session acked, in order."""
    link.written.clear()
    for i, seq in enumerate(seqs):
        link.incoming.append(encode_frame(Frame(UNIT, seq, T0_MS + seq * 1000 if t_ms is None else t_ms[i], STATUS)))
        session.pump(0)
    frames = StreamDecoder().feed(bytes(link.written))
    assert all(isinstance(f.message, Ack) and f.device_id == UNIT for f in frames)
    return [f.message.seq for f in frames]  # type: ignore[union-attr]


def test_auto_acks_cover_only_what_arrived_without_a_gap(tmp_path: Path) -> None:
    link = ScriptedLink()
    with DeviceSession(link, tmp_path / "log") as session:
        session.auto_ack = True
        assert acked(session, link, [5, 6, 8, 9, 7, 8]) == [5, 6, 6, 6, 7, 8]
        assert session.acked_upto == 8


def test_a_restarted_device_is_acked_from_its_new_seq_0(tmp_path: Path) -> None:
    """The receiver's restart rule: far behind, low, and no older than the newest frame. The
    session's acks then cover nothing until the new seq 0 arrives."""
    link = ScriptedLink()
    newest = REBOOT_MARGIN + 10
    with DeviceSession(link, tmp_path / "log") as session:
        session.auto_ack = True
        acked(session, link, list(range(newest + 1)))
        later = T0_MS + (newest + 5) * 1000
        got = acked(session, link, [1, 0, 1], [later, later + 1, later + 2])
        # "Just before 0" first: an ack of the old run's newest would drop frames the centre never had.
        assert got == [SEQ_MODULUS - 1, 0, 1]


def test_a_hand_ack_moves_the_auto_acks_on(tmp_path: Path) -> None:
    """With acks withheld, an ack given by hand is where the automatic ones carry on from."""
    link = ScriptedLink()
    with DeviceSession(link, tmp_path / "log") as session:
        session.auto_ack = True
        acked(session, link, [3])
        session.auto_ack = False
        acked(session, link, [4, 5])
        session.ack(5)
        assert session.acked_upto == 5
        session.auto_ack = True
        assert acked(session, link, [6]) == [6]
