"""Device parameters, read from ``seeds/`` and checked before any device starts.

No domain figure is written in code: every default comes from
``seeds/devices/defaults.toml``, where each one names its source.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar, get_args, get_origin, get_type_hints

T = TypeVar("T")


class ParamsError(ValueError):
    """A parameter file or table is wrong; the message names where and why."""


def seeds_dir() -> Path:
    """The seeds folder: inside the installed wheel, or at the source tree's top."""
    packaged = Path(__file__).with_name("_seeds")
    return packaged if packaged.is_dir() else Path(__file__).resolve().parents[1] / "seeds"


def load_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ParamsError(f"{path}: no such file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ParamsError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ParamsError(f"{path}: cannot read: {exc.strerror}") from None


def build(cls: type[T], table: Any, where: str) -> T:
    """Make dataclass ``cls`` from a TOML table, refusing unknown, missing and wrong keys.

    Numbers must be non-negative: no device interval, rate or capacity is below zero.
    """
    if not isinstance(table, dict):
        raise ParamsError(f"{where}: expected a table, got {type(table).__name__}")
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(table) - set(fields))
    if unknown:
        raise ParamsError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(fields))})")
    values = {}
    for name, f in fields.items():
        if name not in table:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise ParamsError(f"{where}: missing key {name!r}")
            continue
        values[name] = _coerce(hints[name], table[name], f"{where}: {name}")
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(hint):
        try:
            return build(hint, value, where)
        except ParamsError:
            raise
        except ValueError as exc:  # the nested table's own checks: name the table, not only its key
            raise ParamsError(f"{where}: {exc}") from None
    if get_origin(hint) is tuple:
        item = get_args(hint)[0]
        if not isinstance(value, list):
            raise ParamsError(f"{where}: expected a list, got {value!r}")
        return tuple(_coerce(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if hint is bool:
        if not isinstance(value, bool):
            raise ParamsError(f"{where}: expected true or false, got {value!r}")
        return value
    if hint in (int, float):
        ok = isinstance(value, int) if hint is int else isinstance(value, (int, float))
        if isinstance(value, bool) or not ok:
            raise ParamsError(f"{where}: expected {'a whole number' if hint is int else 'a number'}, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):  # TOML allows nan and inf; no parameter means either
            raise ParamsError(f"{where}: expected a finite number, got {value!r}")
        if value < 0:
            raise ParamsError(f"{where}: must not be negative, got {value!r}")
        return hint(value)
    if hint is str:
        if not isinstance(value, str):
            raise ParamsError(f"{where}: expected a string, got {value!r}")
        return value
    raise TypeError(f"{where}: no coercion for {hint!r}")


@dataclass(frozen=True, slots=True)
class UplinkParams:
    """A device's store-and-forward uplink. ``queue_capacity`` (messages, one frame each) is the
    base unit's in the seeds: ``DeviceParams.uplink_for`` gives each kind its own."""

    queue_capacity: int
    window: int
    retransmit_timeout_s: float
    max_backoff_s: float


@dataclass(frozen=True, slots=True)
class RfTagParams:
    beacon_interval_min_s: float
    beacon_interval_max_s: float
    battery_life_days: float
    battery_low_pct: int


@dataclass(frozen=True, slots=True)
class BaseUnitParams:
    leave_time_s: float
    status_interval_s: float
    backup_battery_hours: float
    backup_battery_low_pct: int
    motion_alarm_window_s: float
    backup_battery_recharge_hours: float


@dataclass(frozen=True, slots=True)
class GpsTagParams:
    fix_interval_s: float
    violation_fix_interval_s: float
    rest_after_s: float
    rest_fix_interval_s: float
    rest_motion_threshold_m: float
    upload_interval_s: float
    battery_life_hours: float
    charge_hours_to_full: float
    battery_low_pct: int
    fix_max_age_s: float
    uere_m: float
    queue_capacity: int  # messages stored for upload, its own (see DeviceParams.uplink_for)


@dataclass(frozen=True, slots=True)
class GnssParams:
    cep90_m: float
    output_interval_s: float
    satellites_open: int
    uere_m: float


@dataclass(frozen=True, slots=True)
class AlcoholTagParams:
    reading_interval_s: float
    upload_interval_s: float
    tac_threshold_mg_dl: int
    battery_replace_days: float
    skin_temp_min_c: float
    skin_temp_max_c: float
    bench_skin_temp_c: float
    bench_skin_temp_sd_c: float
    queue_capacity: int  # readings stored for upload, its own (see DeviceParams.uplink_for)


@dataclass(frozen=True, slots=True)
class DeviceParams:
    """Every device kind's parameters, as one supplier profile would set them."""

    uplink: UplinkParams
    rf_tag: RfTagParams
    base_unit: BaseUnitParams
    gps_tag: GpsTagParams
    gnss: GnssParams
    alcohol_tag: AlcoholTagParams

    def uplink_for(self, kind: str) -> UplinkParams:
        """The uplink of a device of ``kind`` (``firmware_stubs.kinds.KINDS``): the tags keep
        queues of their own size; the base unit, and the RF tag, whose beacons are never
        stored, keep ``uplink``'s."""
        own = {"gps-tag": self.gps_tag.queue_capacity, "alcohol-tag": self.alcohol_tag.queue_capacity}
        if kind in own:
            return dataclasses.replace(self.uplink, queue_capacity=own[kind])
        if kind in ("base-unit", "rf-tag"):
            return self.uplink
        raise ValueError(f"unknown device kind {kind!r}")


def device_params_from(table: dict[str, Any], where: str) -> DeviceParams:
    sections = {f.name: f.type for f in dataclasses.fields(DeviceParams)}
    hints = get_type_hints(DeviceParams)
    unknown = sorted(set(table) - set(sections))
    if unknown:
        raise ParamsError(f"{where}: unknown section [{unknown[0]}] (known: {', '.join(sections)})")
    missing = [name for name in sections if name not in table]
    if missing:
        raise ParamsError(f"{where}: missing section [{missing[0]}]")
    return DeviceParams(**{name: build(hints[name], table[name], f"{where} [{name}]") for name in sections})


def default_device_params() -> DeviceParams:
    path = seeds_dir() / "devices" / "defaults.toml"
    return device_params_from(load_toml(path), str(path))
