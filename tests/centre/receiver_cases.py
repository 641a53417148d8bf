"""The case book the receiver's tests share: a base unit and its tag, a GPS tag, an alcohol tag,
and the id of a device no case names."""

from __future__ import annotations

from sim.detector.cases import Case, CaseBook, DeviceKind, FittedDevice

UNIT, TAG, GPS, ALCOHOL, STRANGER = 700, 701, 800, 900, 4242
CASES = CaseBook(
    [
        Case(1, (FittedDevice(UNIT, DeviceKind.BASE_UNIT, 0.0), FittedDevice(TAG, DeviceKind.RF_TAG, 0.0))),
        Case(2, (FittedDevice(GPS, DeviceKind.GPS_TAG, 0.0),)),
        Case(3, (FittedDevice(ALCOHOL, DeviceKind.ALCOHOL_TAG, 0.0),)),
    ]
)
