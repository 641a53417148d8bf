"""Reading ``seeds/`` files into checked, frozen dataclasses.

Every figure a run uses lives in a TOML file under ``seeds/``; ``build`` turns one
table into its dataclass and refuses any key the dataclass does not declare, so a
mistyped key is one ``ParamsError`` naming the file and the key, never silently ignored.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
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


def load_file(cls: type[T], path: Path) -> T:
    """Make dataclass ``cls`` from the TOML file at ``path``: a wrong key or value, or one the
    dataclass's own checks refuse, is one ``ParamsError`` naming the file."""
    try:
        return build(cls, load_toml(path), str(path))
    except ParamsError:
        raise
    except ValueError as exc:
        raise ParamsError(f"{path}: {exc}") from None


def build(cls: type[T], table: Any, where: str) -> T:
    """Make dataclass ``cls`` from a TOML table, refusing unknown, missing and wrong keys.

    Numbers must be non-negative: no seeds figure (an interval, rate, share or capacity) is below zero.
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
    if get_origin(hint) is dict:  # a table of named entries, each of the value type
        if not isinstance(value, dict) or not value:
            raise ParamsError(f"{where}: expected a table of named entries, got {value!r}")
        return {name: _coerce(get_args(hint)[1], v, f"{where}: {name}") for name, v in value.items()}
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
