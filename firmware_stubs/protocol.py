"""The tagsim wire protocol: frames, messages, and a stream decoder that never raises.

A frame on the wire is ``0x00 | COBS(header | payload | crc16) | 0x00``. The
leading delimiter means line noise before a frame can never damage the frame
itself; empty frames between two delimiters are ignored. The header is
little-endian: version (major << 4 | minor), message type, device id (u32),
sequence number (u16, wraps) and the device's event time in milliseconds
(u64, Unix epoch on the device's clock). The CRC is CRC-16/CCITT-FALSE over
header and payload, big-endian. ``docs/protocol.md`` is the full reference.
"""

from __future__ import annotations

import binascii
import math
import struct
from collections import Counter, deque
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import ClassVar, NamedTuple

import numpy as np
from cobs import cobs

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 1
VERSION_BYTE = PROTOCOL_MAJOR << 4 | PROTOCOL_MINOR

HEADER = struct.Struct("<BBIHQ")
CRC_SIZE = 2
# Largest decoded frame (header + payload + CRC). Bounds a receiver's buffer.
MAX_FRAME_SIZE = 4096
MAX_PAYLOAD_SIZE = MAX_FRAME_SIZE - HEADER.size - CRC_SIZE
# COBS adds one byte per 254, plus one.
MAX_ENCODED_SIZE = MAX_FRAME_SIZE + MAX_FRAME_SIZE // 254 + 1
DELIMITER = b"\x00"

SEQ_MODULUS = 1 << 16
U32_MAX = (1 << 32) - 1
U64_MAX = (1 << 64) - 1


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF); check value 0x29B1."""
    return binascii.crc_hqx(data, 0xFFFF)


def seq_next(seq: int) -> int:
    return (seq + 1) % SEQ_MODULUS


def seq_diff(a: int, b: int) -> int:
    """Signed distance from ``b`` to ``a`` in serial-number arithmetic (RFC 1982)."""
    return (a - b + SEQ_MODULUS // 2) % SEQ_MODULUS - SEQ_MODULUS // 2


class MessageType(IntEnum):
    RF_BEACON = 0x01
    BASE_UNIT_EVENT = 0x02
    GPS_FIX_BATCH = 0x03
    GPS_STATUS = 0x04
    ALCOHOL_READING = 0x05
    DEVICE_BOOT = 0x06  # 1.1
    QUEUE_OVERFLOW = 0x07  # 1.1
    ACK = 0x10
    TIME_SYNC = 0x11
    CONFIG = 0x12


class TagFlags(IntFlag):
    """Status flags an RF tag carries in every beacon."""

    NONE = 0
    STRAP_SEVERED = 0x01
    PARTIAL_CUT = 0x02
    CASE_OPEN = 0x04
    BATTERY_LOW = 0x08


class BaseEventCode(IntEnum):
    TAG_LEAVE = 1
    TAG_RETURN = 2
    STRAP_TAMPER = 3
    BODY_TAMPER = 4
    UNIT_MOVED = 5
    MAINS_LOST = 6
    MAINS_RESTORED = 7
    BACKUP_BATTERY_LOW = 8
    STATUS_CHECK = 9
    INSTALLATION = 10
    TAMPER_CLEARED = 11  # a tamper flag the tag reported is gone from its beacons


class UnitFlags(IntFlag):
    """The base unit's own state, carried in every base-unit event."""

    NONE = 0
    ON_BACKUP_BATTERY = 0x01
    IN_CURFEW = 0x02
    TAG_PRESENT = 0x04
    VIOLATION = 0x08  # the unit judged this event a violation and sent it at once


class GpsFlags(IntFlag):
    NONE = 0
    CHARGING = 0x01
    NO_FIX = 0x02
    STRAP_OPEN = 0x04
    CASE_OPEN = 0x08
    BATTERY_LOW = 0x10
    AT_REST = 0x20
    ZONE_VIOLATION = 0x40


class AlcoholFlags(IntFlag):
    NONE = 0
    IR_OBSTRUCTION = 0x01
    STRAP_TAMPER = 0x02
    TEMPERATURE_TAMPER = 0x04
    BATTERY_LOW = 0x08


class ZoneKind(IntEnum):
    INCLUSION = 1  # must be inside during curfew windows
    EXCLUSION = 2  # must never be inside


class ConfigParam(IntEnum):
    """Configuration keys; every value is a u32, times in milliseconds."""

    BEACON_INTERVAL_MS = 1
    LEAVE_TIME_MS = 2
    STATUS_INTERVAL_MS = 3
    RETRANSMIT_TIMEOUT_MS = 4
    UPLOAD_INTERVAL_MS = 5
    FIX_INTERVAL_MS = 6
    VIOLATION_FIX_INTERVAL_MS = 7
    REST_FIX_INTERVAL_MS = 8
    REST_AFTER_MS = 9
    READING_INTERVAL_MS = 10
    TAC_THRESHOLD_MG_DL = 11


class Rejection(IntEnum):
    """Why the stream decoder set a frame aside."""

    BAD_COBS = 1
    TRUNCATED = 2
    OVERSIZE = 3
    CRC = 4
    UNSUPPORTED_VERSION = 5
    UNKNOWN_TYPE = 6
    BAD_PAYLOAD = 7


class FrameError(ValueError):
    """A frame could not be decoded; ``reason`` says why."""

    def __init__(self, reason: Rejection, detail: str) -> None:
        super().__init__(f"{reason.name.lower()}: {detail}")
        self.reason = reason
        self.detail = detail


class EncodeError(ValueError):
    """A message or frame field is outside what the wire can carry."""


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise EncodeError(f"{name}={value!r} is outside {low}..{high}")


def _bad(detail: str) -> FrameError:
    return FrameError(Rejection.BAD_PAYLOAD, detail)


def _short(detail: str) -> FrameError:
    return FrameError(Rejection.TRUNCATED, detail)


def _fixed_unpack(st: struct.Struct, payload: bytes, lenient: bool, what: str) -> tuple:
    if len(payload) != st.size:
        if len(payload) < st.size:
            raise _short(f"{what} payload is {len(payload)} bytes, needs {st.size}")
        if not lenient:
            raise _bad(f"{what} payload is {len(payload)} bytes, expected {st.size}")
    return st.unpack_from(payload)


# --- messages -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RfBeacon:
    """An RF tag's beacon; the tag is the frame's device id."""

    TYPE: ClassVar[MessageType] = MessageType.RF_BEACON
    _ST: ClassVar[struct.Struct] = struct.Struct("<B")
    flags: TagFlags = TagFlags.NONE

    def pack(self) -> bytes:
        _check_range("flags", int(self.flags), 0, 0xFF)
        return self._ST.pack(self.flags)

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[int]:
        return _fixed_unpack(cls._ST, payload, lenient, "rf beacon")

    @classmethod
    def from_fields(cls, fields: tuple[int]) -> RfBeacon:
        return cls(TagFlags(fields[0]))


@dataclass(frozen=True, slots=True)
class BaseUnitEvent:
    TYPE: ClassVar[MessageType] = MessageType.BASE_UNIT_EVENT
    _ST: ClassVar[struct.Struct] = struct.Struct("<BIBBB")
    code: BaseEventCode
    tag_id: int = 0
    tag_flags: TagFlags = TagFlags.NONE
    unit_flags: UnitFlags = UnitFlags.NONE
    battery_pct: int = 100

    def pack(self) -> bytes:
        _check_range("tag_id", self.tag_id, 0, U32_MAX)
        _check_range("tag_flags", int(self.tag_flags), 0, 0xFF)
        _check_range("unit_flags", int(self.unit_flags), 0, 0xFF)
        _check_range("battery_pct", self.battery_pct, 0, 100)
        return self._ST.pack(self.code, self.tag_id, self.tag_flags, self.unit_flags, self.battery_pct)

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[int, int, int, int, int]:
        fields = _fixed_unpack(cls._ST, payload, lenient, "base-unit event")
        if fields[0] not in _EVENT_CODES:
            raise _bad(f"unknown base-unit event code {fields[0]}")
        if fields[4] > 100:
            raise _bad(f"battery_pct {fields[4]} > 100")
        return fields

    @classmethod
    def from_fields(cls, fields: tuple[int, int, int, int, int]) -> BaseUnitEvent:
        code, tag_id, tag_flags, unit_flags, battery = fields
        return cls(BaseEventCode(code), tag_id, TagFlags(tag_flags), UnitFlags(unit_flags), battery)


_EVENT_CODES = frozenset(BaseEventCode)


WIRE_FIX_DTYPE = np.dtype(
    [
        ("time_ms", "<u8"),
        ("lat_e7", "<i4"),  # degrees * 1e7
        ("lon_e7", "<i4"),
        ("accuracy_dm", "<u2"),  # horizontal accuracy, decimetres
        ("satellites", "u1"),
    ]
)
_COUNT = struct.Struct("<H")
MAX_FIXES_PER_FRAME = (MAX_PAYLOAD_SIZE - _COUNT.size) // WIRE_FIX_DTYPE.itemsize
LAT_E7_MAX = 90 * 10**7
LON_E7_MAX = 180 * 10**7


def make_wire_fixes(
    time_ms: np.ndarray | list[int],
    lat_e7: np.ndarray | list[int],
    lon_e7: np.ndarray | list[int],
    accuracy_dm: np.ndarray | list[int],
    satellites: np.ndarray | list[int],
) -> np.ndarray:
    """Build a fix array in the wire dtype from parallel columns."""
    fixes = np.empty(len(time_ms), dtype=WIRE_FIX_DTYPE)
    fixes["time_ms"] = time_ms
    fixes["lat_e7"] = lat_e7
    fixes["lon_e7"] = lon_e7
    fixes["accuracy_dm"] = accuracy_dm
    fixes["satellites"] = satellites
    return fixes


def _fixes_out_of_range(fixes: np.ndarray) -> str | None:
    if not len(fixes):
        return None
    # Extremes, not abs(): abs of the most negative i32 overflows. Python's min and max on
    # lists: a frame holds at most a few hundred fixes, where numpy's per-call cost dominates.
    lat, lon = fixes["lat_e7"].tolist(), fixes["lon_e7"].tolist()
    if min(lat) < -LAT_E7_MAX or max(lat) > LAT_E7_MAX:
        return "latitude beyond +/-90 degrees"
    if min(lon) < -LON_E7_MAX or max(lon) > LON_E7_MAX:
        return "longitude beyond +/-180 degrees"
    return None


@dataclass(frozen=True, slots=True, eq=False)
class GpsFixBatch:
    """A batch of GPS fixes as a numpy structured array of ``WIRE_FIX_DTYPE``."""

    TYPE: ClassVar[MessageType] = MessageType.GPS_FIX_BATCH
    fixes: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.fixes, np.ndarray) or self.fixes.dtype != WIRE_FIX_DTYPE:
            raise EncodeError("fixes must be a numpy array of WIRE_FIX_DTYPE (see make_wire_fixes)")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, GpsFixBatch) and np.array_equal(self.fixes, other.fixes)

    def pack(self) -> bytes:
        if len(self.fixes) > MAX_FIXES_PER_FRAME:
            raise EncodeError(f"{len(self.fixes)} fixes exceed {MAX_FIXES_PER_FRAME} a frame")
        problem = _fixes_out_of_range(self.fixes)
        if problem:
            raise EncodeError(problem)
        return _COUNT.pack(len(self.fixes)) + np.ascontiguousarray(self.fixes).tobytes()

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[np.ndarray]:
        """The fixes as a read-only view of ``payload``."""
        if len(payload) < _COUNT.size:
            raise _short("gps batch has no fix count")
        (count,) = _COUNT.unpack_from(payload)
        need = _COUNT.size + count * WIRE_FIX_DTYPE.itemsize
        if len(payload) < need:
            raise _short(f"gps batch declares {count} fixes in {len(payload)} bytes")
        if len(payload) > need and not lenient:
            raise _bad(f"gps batch has {len(payload) - need} bytes after its {count} fixes")
        fixes = np.frombuffer(payload, dtype=WIRE_FIX_DTYPE, count=count, offset=_COUNT.size)
        problem = _fixes_out_of_range(fixes)
        if problem:
            raise _bad(problem)
        return (fixes,)

    @classmethod
    def from_fields(cls, fields: tuple[np.ndarray]) -> GpsFixBatch:
        return cls(fields[0].copy())


@dataclass(frozen=True, slots=True)
class GpsStatus:
    TYPE: ClassVar[MessageType] = MessageType.GPS_STATUS
    _ST: ClassVar[struct.Struct] = struct.Struct("<BB")
    battery_pct: int
    flags: GpsFlags = GpsFlags.NONE

    def pack(self) -> bytes:
        _check_range("battery_pct", self.battery_pct, 0, 100)
        _check_range("flags", int(self.flags), 0, 0xFF)
        return self._ST.pack(self.battery_pct, self.flags)

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[int, int]:
        fields = _fixed_unpack(cls._ST, payload, lenient, "gps status")
        if fields[0] > 100:
            raise _bad(f"battery_pct {fields[0]} > 100")
        return fields

    @classmethod
    def from_fields(cls, fields: tuple[int, int]) -> GpsStatus:
        return cls(fields[0], GpsFlags(fields[1]))


@dataclass(frozen=True, slots=True)
class AlcoholReading:
    """One transdermal reading; the frame's event time is when it was taken."""

    TYPE: ClassVar[MessageType] = MessageType.ALCOHOL_READING
    _ST: ClassVar[struct.Struct] = struct.Struct("<HhB")
    tac_mg_dl: int  # transdermal alcohol concentration, mg/dl (0.02 g/dl = 20)
    skin_temp_centi_c: int  # skin temperature, hundredths of a degree Celsius
    flags: AlcoholFlags = AlcoholFlags.NONE

    def pack(self) -> bytes:
        _check_range("tac_mg_dl", self.tac_mg_dl, 0, 0xFFFF)
        _check_range("skin_temp_centi_c", self.skin_temp_centi_c, -0x8000, 0x7FFF)
        _check_range("flags", int(self.flags), 0, 0xFF)
        return self._ST.pack(self.tac_mg_dl, self.skin_temp_centi_c, self.flags)

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[int, int, int]:
        return _fixed_unpack(cls._ST, payload, lenient, "alcohol reading")

    @classmethod
    def from_fields(cls, fields: tuple[int, int, int]) -> AlcoholReading:
        return cls(fields[0], fields[1], AlcoholFlags(fields[2]))


@dataclass(frozen=True, slots=True)
class DeviceBoot:
    """The device has started again (protocol 1.1): the first message it stores after a restart.
    Its sequence numbers carry on from before the restart, so the centre needs no guess."""

    TYPE: ClassVar[MessageType] = MessageType.DEVICE_BOOT
    _ST: ClassVar[struct.Struct] = struct.Struct("<I")
    boots: int  # starts since the device was fitted, the fitting's own start being 1

    def pack(self) -> bytes:
        _check_range("boots", self.boots, 1, U32_MAX)
        return self._ST.pack(self.boots)

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[int]:
        fields = _fixed_unpack(cls._ST, payload, lenient, "device boot")
        if fields[0] < 1:
            raise _bad("device boot count 0")
        return fields

    @classmethod
    def from_fields(cls, fields: tuple[int]) -> DeviceBoot:
        return cls(*fields)


@dataclass(frozen=True, slots=True)
class QueueOverflow:
    """Messages the device's full queue overwrote before the centre acked them (protocol 1.1).
    It takes the place, and the sequence number, of the newest message overwritten, so the
    centre's cumulative ack can pass the gap instead of asking for it for ever."""

    TYPE: ClassVar[MessageType] = MessageType.QUEUE_OVERFLOW
    _ST: ClassVar[struct.Struct] = struct.Struct("<I")
    lost: int  # messages overwritten, this one's sequence number the newest of them

    def pack(self) -> bytes:
        _check_range("lost", self.lost, 1, U32_MAX)
        return self._ST.pack(self.lost)

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[int]:
        fields = _fixed_unpack(cls._ST, payload, lenient, "queue overflow")
        if fields[0] < 1:
            raise _bad("queue overflow of 0 messages")
        return fields

    @classmethod
    def from_fields(cls, fields: tuple[int]) -> QueueOverflow:
        return cls(*fields)


@dataclass(frozen=True, slots=True)
class Ack:
    """Cumulative acknowledgement: every sequence number up to ``seq`` arrived."""

    TYPE: ClassVar[MessageType] = MessageType.ACK
    _ST: ClassVar[struct.Struct] = struct.Struct("<H")
    seq: int

    def pack(self) -> bytes:
        _check_range("seq", self.seq, 0, SEQ_MODULUS - 1)
        return self._ST.pack(self.seq)

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[int]:
        return _fixed_unpack(cls._ST, payload, lenient, "ack")

    @classmethod
    def from_fields(cls, fields: tuple[int]) -> Ack:
        return cls(*fields)


@dataclass(frozen=True, slots=True)
class TimeSync:
    """The centre's clock, Unix milliseconds; the device sets its own to it."""

    TYPE: ClassVar[MessageType] = MessageType.TIME_SYNC
    _ST: ClassVar[struct.Struct] = struct.Struct("<Q")
    time_ms: int

    def pack(self) -> bytes:
        _check_range("time_ms", self.time_ms, 0, U64_MAX)
        return self._ST.pack(self.time_ms)

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[int]:
        return _fixed_unpack(cls._ST, payload, lenient, "time sync")

    @classmethod
    def from_fields(cls, fields: tuple[int]) -> TimeSync:
        return cls(*fields)


@dataclass(frozen=True, slots=True)
class CurfewWindow:
    """A curfew that starts ``start_s`` after midnight UTC on each day in ``days``.

    ``days`` is a bit mask, bit 0 Monday to bit 6 Sunday. A window may run past
    midnight; it belongs to the day it starts on.
    """

    days: int
    start_s: int
    duration_s: int

    def contains(self, unix_s: float) -> bool:
        day = int(unix_s // 86400)
        for start_day in (day, day - 1):
            weekday = (start_day + 3) % 7  # 1970-01-01 was a Thursday
            if self.days >> weekday & 1:
                start = start_day * 86400 + self.start_s
                if start <= unix_s < start + self.duration_s:
                    return True
        return False

    def next_start(self, unix_s: float) -> float:
        """The first start strictly after ``unix_s``; infinity if no day is set."""
        day = int(unix_s // 86400)
        for start_day in range(day, day + 8):
            start = start_day * 86400 + self.start_s
            if self.days >> ((start_day + 3) % 7) & 1 and start > unix_s:
                return start
        return math.inf


@dataclass(frozen=True, slots=True)
class Zone:
    """A circular zone; inclusion zones apply during curfew windows."""

    zone_id: int
    kind: ZoneKind
    lat_e7: int
    lon_e7: int
    radius_m: int


_PARAM = struct.Struct("<BI")
_CURFEW = struct.Struct("<BII")
_ZONE = struct.Struct("<HBiiI")
_U8 = struct.Struct("<B")


@dataclass(frozen=True, slots=True)
class Config:
    """Parameters, curfew windows and zones pushed to a device."""

    TYPE: ClassVar[MessageType] = MessageType.CONFIG
    params: dict[ConfigParam, int] = field(default_factory=dict)
    curfews: tuple[CurfewWindow, ...] = ()
    zones: tuple[Zone, ...] = ()

    def interval_s(self, param: ConfigParam) -> float | None:
        """A time parameter in seconds, or None when absent. Zero counts as absent: a zero
        interval would schedule without end, so every device leaves its own in place."""
        ms = self.params.get(param)
        return ms / 1000 if ms else None

    def pack(self) -> bytes:
        for name, items in (("params", self.params), ("curfews", self.curfews), ("zones", self.zones)):
            _check_range(f"number of {name}", len(items), 0, 0xFF)
        out = [_U8.pack(len(self.params))]
        for key, value in self.params.items():
            _check_range(f"{ConfigParam(key).name}", value, 0, U32_MAX)
            out.append(_PARAM.pack(key, value))
        out.append(_U8.pack(len(self.curfews)))
        for c in self.curfews:
            _check_range("curfew days", c.days, 0, 0x7F)
            _check_range("curfew start_s", c.start_s, 0, 86399)
            _check_range("curfew duration_s", c.duration_s, 0, 86400)
            out.append(_CURFEW.pack(c.days, c.start_s, c.duration_s))
        out.append(_U8.pack(len(self.zones)))
        for z in self.zones:
            _check_range("zone_id", z.zone_id, 0, 0xFFFF)
            _check_range("zone lat_e7", z.lat_e7, -LAT_E7_MAX, LAT_E7_MAX)
            _check_range("zone lon_e7", z.lon_e7, -LON_E7_MAX, LON_E7_MAX)
            _check_range("zone radius_m", z.radius_m, 0, U32_MAX)
            out.append(_ZONE.pack(z.zone_id, z.kind, z.lat_e7, z.lon_e7, z.radius_m))
        payload = b"".join(out)
        if len(payload) > MAX_PAYLOAD_SIZE:
            raise EncodeError(f"config is {len(payload)} bytes, over {MAX_PAYLOAD_SIZE}")
        return payload

    @classmethod
    def unpack_fields(cls, payload: bytes, lenient: bool) -> tuple[dict[ConfigParam, int], tuple[CurfewWindow, ...], tuple[Zone, ...]]:
        view = memoryview(payload)
        pos = 0

        def take(st: struct.Struct, what: str) -> tuple:
            nonlocal pos
            if pos + st.size > len(view):
                raise _short(f"config ends inside {what}")
            values = st.unpack_from(view, pos)
            pos += st.size
            return values

        params: dict[ConfigParam, int] = {}
        for _ in range(take(_U8, "parameter count")[0]):
            key, value = take(_PARAM, "a parameter")
            try:
                param = ConfigParam(key)
            except ValueError:
                raise _bad(f"unknown config parameter {key}") from None
            if param in params:
                raise _bad(f"config parameter {param.name} appears twice")
            params[param] = value
        curfews = []
        for _ in range(take(_U8, "curfew count")[0]):
            days, start, duration = take(_CURFEW, "a curfew window")
            if days > 0x7F or start > 86399 or duration > 86400:
                raise _bad(f"curfew window days={days} start_s={start} duration_s={duration} out of range")
            curfews.append(CurfewWindow(days, start, duration))
        zones = []
        for _ in range(take(_U8, "zone count")[0]):
            zone_id, kind, lat, lon, radius = take(_ZONE, "a zone")
            try:
                zone_kind = ZoneKind(kind)
            except ValueError:
                raise _bad(f"unknown zone kind {kind}") from None
            if abs(lat) > LAT_E7_MAX or abs(lon) > LON_E7_MAX:
                raise _bad(f"zone {zone_id} centre out of range")
            zones.append(Zone(zone_id, zone_kind, lat, lon, radius))
        if pos != len(view) and not lenient:
            raise _bad(f"config has {len(view) - pos} bytes after its last zone")
        return params, tuple(curfews), tuple(zones)

    @classmethod
    def from_fields(cls, fields: tuple[dict[ConfigParam, int], tuple[CurfewWindow, ...], tuple[Zone, ...]]) -> Config:
        return cls(*fields)


Message = (RfBeacon | BaseUnitEvent | GpsFixBatch | GpsStatus | AlcoholReading | DeviceBoot | QueueOverflow | Ack | TimeSync
           | Config)

MESSAGE_CLASSES: dict[MessageType, type] = {
    cls.TYPE: cls for cls in (RfBeacon, BaseUnitEvent, GpsFixBatch, GpsStatus, AlcoholReading, DeviceBoot, QueueOverflow, Ack,
                              TimeSync, Config)
}


# --- frames -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Frame:
    device_id: int
    seq: int
    event_time_ms: int
    message: Message

    @property
    def type(self) -> MessageType:
        return self.message.TYPE


def encode_frame(frame: Frame) -> bytes:
    """The frame's bytes on the wire, both delimiters included."""
    try:
        header = HEADER.pack(VERSION_BYTE, frame.message.TYPE, frame.device_id, frame.seq, frame.event_time_ms)
    except struct.error as exc:
        # struct refuses what the wire cannot carry; say which field it was.
        _check_range("device_id", frame.device_id, 0, U32_MAX)
        _check_range("seq", frame.seq, 0, SEQ_MODULUS - 1)
        _check_range("event_time_ms", frame.event_time_ms, 0, U64_MAX)
        raise EncodeError(str(exc)) from None
    return _framed(header, frame.message)


# HEADER as a numpy record, for packing many headers at once.
_HEADER_DTYPE = np.dtype([("version", "u1"), ("type", "u1"), ("device_id", "<u4"), ("seq", "<u2"), ("event_time_ms", "<u8")])
assert _HEADER_DTYPE.itemsize == HEADER.size


def encode_frames(device_id: int, seqs: np.ndarray, event_times_ms: np.ndarray, messages: list[Message]) -> list[bytes]:
    """Many frames from one device: the bytes ``encode_frame`` gives each, with their headers
    packed in one go (a fleet simulation encodes millions)."""
    seqs, event_times_ms = np.asarray(seqs), np.asarray(event_times_ms)
    if not len(seqs) == len(event_times_ms) == len(messages):
        raise ValueError(f"{len(seqs)} sequence numbers, {len(event_times_ms)} times, {len(messages)} messages")
    if not messages:
        return []
    _check_range("device_id", device_id, 0, U32_MAX)
    for name, values, high in (("seq", seqs, SEQ_MODULUS - 1), ("event_time_ms", event_times_ms, U64_MAX)):
        if values.dtype.kind not in "iu":
            raise EncodeError(f"{name} must be integers, not {values.dtype}")
        _check_range(name, int(values.min()), 0, high)
        _check_range(name, int(values.max()), 0, high)
    headers = np.empty(len(messages), dtype=_HEADER_DTYPE)
    headers["version"] = VERSION_BYTE
    headers["type"] = [m.TYPE for m in messages]
    headers["device_id"] = device_id
    headers["seq"] = seqs
    headers["event_time_ms"] = event_times_ms
    packed = headers.tobytes()
    size = HEADER.size
    return [_framed(packed[i * size : (i + 1) * size], message) for i, message in enumerate(messages)]


def _framed(header: bytes, message: Message) -> bytes:
    """A packed header and its message's payload, checksummed, stuffed and delimited."""
    payload = message.pack()
    if len(payload) > MAX_PAYLOAD_SIZE:
        raise EncodeError(f"payload is {len(payload)} bytes, over {MAX_PAYLOAD_SIZE}")
    body = header + payload
    return DELIMITER + cobs.encode(body + crc16(body).to_bytes(2, "big")) + DELIMITER


class RawFrame(NamedTuple):
    """A frame decoded and checked as fully as a ``Frame``, its message left as the plain
    fields its class's ``unpack_fields`` gives (ints; a GPS batch's fixes as a read-only array):
    for a reader that maps fields straight to its own records, skipping the message objects."""

    type: MessageType
    device_id: int
    seq: int
    event_time_ms: int
    fields: tuple


def decode_raw(encoded: bytes) -> RawFrame:
    """Decode one frame's COBS body (no delimiters) to its fields; raises ``FrameError``."""
    if len(encoded) > MAX_ENCODED_SIZE:
        raise FrameError(Rejection.OVERSIZE, f"{len(encoded)} encoded bytes, limit {MAX_ENCODED_SIZE}")
    try:
        body = cobs.decode(encoded)
    except cobs.DecodeError as exc:
        raise FrameError(Rejection.BAD_COBS, str(exc)) from None
    if len(body) < HEADER.size + CRC_SIZE:
        raise _short(f"{len(body)} bytes, a frame needs at least {HEADER.size + CRC_SIZE}")
    # Run over a body and its own big-endian CRC, this CRC (no final XOR) comes out 0.
    if binascii.crc_hqx(body, 0xFFFF):
        raise FrameError(Rejection.CRC, "checksum does not match")
    version, mtype, device_id, seq, event_time_ms = HEADER.unpack_from(body)
    major, minor = version >> 4, version & 0x0F
    if major != PROTOCOL_MAJOR:
        raise FrameError(
            Rejection.UNSUPPORTED_VERSION,
            f"protocol {major}.{minor}, this decoder speaks {PROTOCOL_MAJOR}.x",
        )
    known = _UNPACK_FIELDS.get(mtype)
    if known is None:
        raise FrameError(Rejection.UNKNOWN_TYPE, f"message type 0x{mtype:02x}")
    message_type, unpack_fields = known
    # A newer minor version may append fields; an older decoder skips them.
    return RawFrame(message_type, device_id, seq, event_time_ms, unpack_fields(body[HEADER.size : -CRC_SIZE], minor > PROTOCOL_MINOR))


# By wire type number: each message type and its class's ``unpack_fields``, looked up once.
_UNPACK_FIELDS = {int(t): (t, cls.unpack_fields) for t, cls in MESSAGE_CLASSES.items()}


def to_frame(raw: RawFrame) -> Frame:
    """The ``Frame`` a raw frame's fields make."""
    return Frame(raw.device_id, raw.seq, raw.event_time_ms, MESSAGE_CLASSES[raw.type].from_fields(raw.fields))


def decode_frame(encoded: bytes) -> Frame:
    """Decode one frame's COBS body (no delimiters); raises ``FrameError``."""
    return to_frame(decode_raw(encoded))


@dataclass
class DecoderStats:
    frames: int = 0
    bytes: int = 0
    rejected: Counter[Rejection] = field(default_factory=Counter)
    rejected_total: int = 0  # the sum of ``rejected``, kept as it goes: readers poll it per chunk


class StreamDecoder:
    """Turns arbitrary chunks of a byte stream into frames.

    Frames may be split or merged across chunks in any way. Anything that is
    not a good frame is counted by reason in ``stats.rejected`` and the last
    few are kept in ``recent_rejects`` for diagnosis; ``feed`` never raises.
    ``feed_raw`` does the same but gives each frame as a ``RawFrame``.
    """

    def __init__(self, keep_rejects: int = 16) -> None:
        self.stats = DecoderStats()
        self.recent_rejects: deque[tuple[Rejection, bytes]] = deque(maxlen=keep_rejects)
        self._pending = b""
        self._discarding = False  # inside an oversize run, until the next delimiter

    def feed(self, chunk: bytes) -> list[Frame]:
        return [to_frame(raw) for raw in self.feed_raw(chunk)]

    def feed_raw(self, chunk: bytes) -> list[RawFrame]:
        self.stats.bytes += len(chunk)
        if not self._pending and len(chunk) > 2 and chunk[0] == 0 and chunk[-1] == 0 and chunk.count(0) == 2:
            # One whole frame, as a fleet simulation's links deliver them: what the general
            # path below would do, without its splitting and bookkeeping.
            self._discarding = False
            try:
                frame = decode_raw(chunk[1:-1])
            except FrameError as exc:
                self.reject(exc.reason, chunk[1:-1])
                return []
            self.stats.frames += 1
            return [frame]
        parts = (self._pending + chunk).split(DELIMITER) if self._pending else chunk.split(DELIMITER)
        self._pending = parts.pop()
        frames: list[RawFrame] = []
        for part in parts:
            if self._discarding:
                self._discarding = False
                continue
            if part:
                try:
                    frames.append(decode_raw(part))
                except FrameError as exc:
                    self.reject(exc.reason, part)
        self.stats.frames += len(frames)
        if self._discarding:
            self._pending = b""
        elif len(self._pending) > MAX_ENCODED_SIZE:
            self.reject(Rejection.OVERSIZE, self._pending[:64])
            self._pending = b""
            self._discarding = True
        return frames

    @property
    def at_frame_boundary(self) -> bool:
        """Nothing of a frame is held back: a chunk that is one whole frame is that frame alone."""
        return not self._pending

    def count_whole(self, chunk_bytes: int, frames: int) -> None:
        """Take in whole-frame chunks decoded elsewhere (``batch_codec``, at a frame boundary), as
        ``feed_raw`` would have: their bytes and good frames counted, and any oversize run over."""
        self.stats.bytes += chunk_bytes
        self.stats.frames += frames
        self._discarding = False

    def reject(self, reason: Rejection, raw: bytes) -> None:
        """Count and keep a frame set aside, here or by a batch decoder for this stream."""
        self.stats.rejected[reason] += 1
        self.stats.rejected_total += 1
        self.recent_rejects.append((reason, raw))
