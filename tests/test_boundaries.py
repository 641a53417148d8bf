"""The rooms of the house (ARCHITECTURE.md): who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imports_of(package: str) -> dict[str, set[str]]:
    """Every module each file of ``package`` imports, by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("firmware_stubs", ("sim",)),
        # The detector runs unchanged on real telemetry: no simulation, no transport, no SimPy.
        ("sim/detector", ("sim.world", "sim.links", "sim.centre", "simpy", "serial", "firmware_stubs")),
    ],
)
def test_package_imports_nothing_forbidden(package: str, forbidden: tuple[str, ...]) -> None:
    breaches = {
        file: sorted(n for n in names if any(n == f or n.startswith(f + ".") for f in forbidden))
        for file, names in imports_of(package).items()
    }
    assert {f: b for f, b in breaches.items() if b} == {}
    assert imports_of(package), f"no modules found under {package}"


def test_the_detector_reads_no_clock_and_does_no_io() -> None:
    for file, names in imports_of("sim/detector").items():
        assert not names & {"time", "datetime", "socket", "os", "subprocess", "threading"}, file
