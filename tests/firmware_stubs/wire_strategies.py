"""Hypothesis strategies for wire messages and frames of every type, shared by the protocol's tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from firmware_stubs.protocol import (
    LAT_E7_MAX,
    LON_E7_MAX,
    MAX_FIXES_PER_FRAME,
    U32_MAX,
    U64_MAX,
    Ack,
    AlcoholFlags,
    AlcoholReading,
    BaseEventCode,
    BaseUnitEvent,
    Config,
    ConfigParam,
    CurfewWindow,
    DeviceBoot,
    Frame,
    GpsFixBatch,
    GpsFlags,
    GpsStatus,
    MessageType,
    QueueOverflow,
    RfBeacon,
    TagFlags,
    TimeSync,
    UnitFlags,
    Zone,
    ZoneKind,
    make_wire_fixes,
)

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, U32_MAX)
pct = st.integers(0, 100)
lat = st.integers(-LAT_E7_MAX, LAT_E7_MAX)
lon = st.integers(-LON_E7_MAX, LON_E7_MAX)


@st.composite
def fix_arrays(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(0, MAX_FIXES_PER_FRAME))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    return make_wire_fixes(
        rng.integers(0, U64_MAX, n, dtype=np.uint64, endpoint=True),
        rng.integers(-LAT_E7_MAX, LAT_E7_MAX, n, endpoint=True),
        rng.integers(-LON_E7_MAX, LON_E7_MAX, n, endpoint=True),
        rng.integers(0, 0xFFFF, n, endpoint=True),
        rng.integers(0, 0xFF, n, endpoint=True),
    )


curfews = st.builds(CurfewWindow, st.integers(0, 0x7F), st.integers(0, 86399), st.integers(0, 86400))
zones = st.builds(Zone, u16, st.sampled_from(ZoneKind), lat, lon, u32)

MESSAGE_STRATEGIES = {
    MessageType.RF_BEACON: st.builds(RfBeacon, u8.map(TagFlags)),
    MessageType.BASE_UNIT_EVENT: st.builds(
        BaseUnitEvent, st.sampled_from(BaseEventCode), u32, u8.map(TagFlags), u8.map(UnitFlags), pct
    ),
    MessageType.GPS_FIX_BATCH: fix_arrays().map(GpsFixBatch),
    MessageType.GPS_STATUS: st.builds(GpsStatus, pct, u8.map(GpsFlags)),
    MessageType.ALCOHOL_READING: st.builds(
        AlcoholReading, u16, st.integers(-0x8000, 0x7FFF), u8.map(AlcoholFlags)
    ),
    MessageType.DEVICE_BOOT: st.builds(DeviceBoot, st.integers(1, U32_MAX)),
    MessageType.QUEUE_OVERFLOW: st.builds(QueueOverflow, st.integers(1, U32_MAX)),
    MessageType.ACK: st.builds(Ack, u16),
    MessageType.TIME_SYNC: st.builds(TimeSync, st.integers(0, U64_MAX)),
    MessageType.CONFIG: st.builds(
        Config,
        st.dictionaries(st.sampled_from(ConfigParam), u32),
        st.lists(curfews, max_size=20).map(tuple),
        st.lists(zones, max_size=50).map(tuple),
    ),
}
messages = st.one_of(*MESSAGE_STRATEGIES.values())
frames = st.builds(Frame, u32, u16, st.integers(0, U64_MAX), messages)
