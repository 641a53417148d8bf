"""What every device stub shares: ports, framing, its clock, commands, its uplink.

A stub is a state machine with no transport and no clock of its own. The
driver (SimPy in the fleet simulation, the real-time runner on a serial port,
a test) owns time and bytes:

- ``receive(now, data, port)`` gives it bytes that arrived on a port;
- ``tick(now)`` lets it do whatever is due by ``now``;
- ``drain(port)`` takes the bytes it wants sent on a port;
- ``next_deadline()`` says when it next needs a ``tick``.

``now`` is the driver's time in seconds and must never go backwards. The
device stamps frames with its own clock, which starts at ``now`` plus an
offset, may drift, and is set by a TIME_SYNC from upstream.

Upstream (the ``uplink`` port) sends commands, CONFIG and TIME_SYNC, each with
its own sequence number; the device applies each once and answers with an ACK
of that number, and takes the upstream's ACKs as acknowledgements of its own
queued frames. ACK frames are not sequenced: their own seq field is 0.
"""

from __future__ import annotations

import math
from typing import ClassVar, Protocol

from firmware_stubs.params import UplinkParams
from firmware_stubs.protocol import (
    U32_MAX,
    Ack,
    Config,
    ConfigParam,
    Frame,
    Message,
    StreamDecoder,
    TimeSync,
    encode_frame,
)
from firmware_stubs.reliable import ReliableUplink

UPLINK = "uplink"
BROADCAST_ID = U32_MAX


class DeviceClock:
    """The device's own clock: true time, plus an offset, plus drift."""

    def __init__(self, offset_s: float = 0.0, drift_ppm: float = 0.0) -> None:
        self.offset_s = offset_s
        self.drift_ppm = drift_ppm

    def read_s(self, now: float) -> float:
        return now * (1.0 + self.drift_ppm * 1e-6) + self.offset_s

    def read_ms(self, now: float) -> int:
        return max(0, round(self.read_s(now) * 1000))

    def true_s(self, device_s: float) -> float:
        """The driver time at which this clock will read ``device_s``."""
        return (device_s - self.offset_s) / (1.0 + self.drift_ppm * 1e-6)

    def set_to(self, now: float, device_ms: int) -> None:
        self.offset_s = device_ms / 1000 - now * (1.0 + self.drift_ppm * 1e-6)


class UploadLog(Protocol):
    """Told of every message a device stores for upload, and of every one its full queue
    overwrites unsent: what the device owes the centre, for an account of what arrived."""

    def stored(self, device_id: int, seq: int, event_time_ms: int, message: Message) -> None: ...

    def overwritten(self, device_id: int, seq: int) -> None: ...


class Device:
    """Base class for the four stubs. Subclasses fill in ``_advance``,
    ``_own_deadline`` and, if they take configuration, ``_configure``."""

    KIND: ClassVar[str]
    PORTS: ClassVar[tuple[str, ...]] = (UPLINK,)

    def __init__(self, device_id: int, now: float, uplink: UplinkParams, clock: DeviceClock | None = None) -> None:
        self.device_id = device_id
        self.clock = clock or DeviceClock()
        self.now = now
        self.queue = ReliableUplink(
            device_id, uplink.queue_capacity, uplink.window, uplink.retransmit_timeout_s, uplink.max_backoff_s
        )
        self.decoders = {port: StreamDecoder() for port in self.PORTS}
        self.commands_applied = 0
        self.ignored_frames = 0
        self.ignored_while_off = 0  # bytes that arrived while the device had no power
        self.upload_log: UploadLog | None = None  # see attach_upload_log
        self._out = {port: bytearray() for port in self.PORTS}
        self._last_command_seq: int | None = None

    # --- the driver's interface ---------------------------------------------

    def receive(self, now: float, data: bytes, port: str = UPLINK) -> None:
        self.tick(now)
        if not self._powered():
            self.ignored_while_off += len(data)  # a device without power hears nothing
            return
        if port == UPLINK:
            for frame in self.decoders[port].feed(data):
                self._on_uplink_frame(frame)
        else:
            self._on_port_bytes(port, data)
        self._pump()

    def tick(self, now: float) -> None:
        if now < self.now:
            raise ValueError(f"time went backwards: {now} after {self.now}")
        self.now = now
        self._advance(now)
        self._pump()

    def drain(self, port: str = UPLINK) -> bytes:
        out = bytes(self._out[port])
        self._out[port].clear()
        return out

    def next_deadline(self) -> float:
        if not self._powered():
            return math.inf  # only a stimulus (mains back, a charger) can wake it
        return max(self.now, min(self._own_deadline(), self.queue.next_deadline()))

    def attach_upload_log(self, log: UploadLog) -> None:
        """Tell ``log`` of every message stored for upload from now on, and of those already
        queued (a base unit stores its installation as it is built, before any driver can attach)."""
        self.upload_log = log
        self.queue.on_overwrite = lambda seq: log.overwritten(self.device_id, seq)
        for frame in self.queue.queued_messages():
            log.stored(self.device_id, frame.seq, frame.event_time_ms, frame.message)

    # --- for subclasses ------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Do everything due by ``now``."""

    def _own_deadline(self) -> float:
        return math.inf

    def _configure(self, config: Config) -> None:
        """Apply a CONFIG; the base has already taken the uplink timeout."""

    def _on_ack(self, seq: int) -> None:
        """Upstream acknowledged everything up to ``seq``."""

    def _powered(self) -> bool:
        """Without power a device hears nothing, sends nothing and needs no tick."""
        return True

    def _on_port_bytes(self, port: str, data: bytes) -> None:
        """Bytes on a port other than the uplink; framed by default."""
        for frame in self.decoders[port].feed(data):
            self._on_port_frame(port, frame)

    def _on_port_frame(self, port: str, frame: Frame) -> None:
        self.ignored_frames += 1

    def _stamp(self, at: float | None = None) -> int:
        """Device-clock milliseconds at ``at`` (a scheduled time), else now."""
        return self.clock.read_ms(self.now if at is None else at)

    def _queue_message(self, message: Message, urgent: bool = False, at: float | None = None) -> int:
        """Store ``message`` for upload; ``urgent`` sends it (and all before it) at once."""
        event_time_ms = self._stamp(at)
        seq = self.queue.enqueue(message, event_time_ms)
        if self.upload_log is not None:
            self.upload_log.stored(self.device_id, seq, event_time_ms, message)
        if urgent:
            self.queue.open_session()
        return seq

    def _send_unsequenced(self, port: str, message: Message, to: int | None = None) -> None:
        """Send once, unstored and unsequenced (an ack), from us or addressed ``to`` a peer."""
        device_id = self.device_id if to is None else to
        self._out[port] += encode_frame(Frame(device_id, 0, self._stamp(), message))

    def _send_sequenced(self, port: str, message: Message, at: float | None = None) -> int:
        """Send once, unstored, with a sequence number (a beacon)."""
        seq = self.queue.take_seq()
        self._out[port] += encode_frame(Frame(self.device_id, seq, self._stamp(at), message))
        return seq

    # --- internals -----------------------------------------------------------

    def _on_uplink_frame(self, frame: Frame) -> None:
        if frame.device_id not in (self.device_id, BROADCAST_ID):
            self.ignored_frames += 1
            return
        message = frame.message
        if isinstance(message, Ack):
            self.queue.acknowledge(message.seq)
            self._on_ack(message.seq)
        elif isinstance(message, (Config, TimeSync)):
            if frame.seq != self._last_command_seq:
                self._last_command_seq = frame.seq
                self.commands_applied += 1
                if isinstance(message, TimeSync):
                    self.clock.set_to(self.now, message.time_ms)
                else:
                    timeout = message.interval_s(ConfigParam.RETRANSMIT_TIMEOUT_MS)
                    if timeout is not None:
                        self.queue.set_retransmit_timeout(timeout)
                    self._configure(message)
            self._send_unsequenced(UPLINK, Ack(frame.seq))
        else:
            self.ignored_frames += 1

    def _pump(self) -> None:
        if not self._powered():
            return
        for wire in self.queue.poll(self.now):
            self._out[UPLINK] += wire
