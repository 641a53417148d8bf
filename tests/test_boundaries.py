"""The rooms of the house (ARCHITECTURE.md): who may import whom."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported(path: Path) -> set[str]:
    """Every module the file imports, wherever in it (a function-local or type-checking import
    is still a dependency), and for ``from m import n`` also ``m.n``, which may be a module."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def imports_of(package: str) -> dict[str, set[str]]:
    """Every module each file of ``package`` imports, by file."""
    return {str(path.relative_to(ROOT)): imported(path) for path in sorted((ROOT / package).rglob("*.py"))}


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("firmware_stubs", ("sim",)),
        # The detector runs unchanged on real telemetry: no simulation, no transport, no SimPy.
        ("sim/detector", ("sim.world", "sim.links", "sim.centre", "simpy", "serial", "firmware_stubs")),
        # The world knows subjects, devices, faults and the truth; running it is the pipeline's job.
        ("sim/world", ("sim.pipeline", "sim.run", "sim.score", "sim.cli")),
        # The centre takes telemetry from a port as from the simulation: it knows neither the world nor SimPy.
        ("sim/centre", ("sim.world", "sim.pipeline", "simpy")),
        # Transports and the network model serve the world and the centre alike, and know neither.
        ("sim/links", ("sim.world", "sim.pipeline", "sim.centre", "sim.detector")),
        # The people behind the alerts take alerts, verdicts and places; the world, its devices and
        # the run that made them are the caller's (sim.run).
        ("sim/operations", ("sim.world", "sim.pipeline", "sim.centre", "sim.links", "sim.run", "sim.cli", "firmware_stubs")),
        # The fault proxy sits on a real line between a device and a centre: no simulated world, no SimPy.
        ("sim/proxy", ("sim.world", "sim.pipeline", "sim.run", "simpy")),
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


def module_graph(*packages: str) -> dict[str, set[str]]:
    """Module -> the modules of ``packages`` it imports (a hidden import is how a circle survives)."""
    modules = {}
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            modules[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return {name: {t for t in imported(path) if t in modules and t != name} for name, path in modules.items()}


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_circles_are_found() -> None:
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_module_imports_itself_through_others() -> None:
    graph = module_graph("sim", "firmware_stubs")
    assert "sim.pipeline.block" in graph and graph["sim.pipeline.block"]
    assert circles(graph) == []
