"""The detector's modules import one another one way: the engine builds the rules, the
rules see only their context. (``tests/test_boundaries.py`` finds circles repo-wide.)"""

from __future__ import annotations

import ast
from pathlib import Path

DETECTOR = Path(__file__).resolve().parents[2] / "sim" / "detector"


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(module imported, whether from inside a function or an ``if``) for each import in ``path``."""
    tree = ast.parse(path.read_text(), str(path))
    top = {id(node) for node in tree.body}
    found: list[tuple[str, bool]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, id(node) not in top) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, id(node) not in top))
            found += [(f"{node.module}.{alias.name}", id(node) not in top) for alias in node.names]
    return found


def test_no_rule_imports_the_engine_or_the_batch_path() -> None:
    reached = {
        path.name: sorted(m for m, _ in _imports(path) if m.startswith(("sim.detector.engine", "sim.detector.batch")))
        for path in sorted((DETECTOR / "rules").glob("*.py"))
    }
    assert reached and {name: m for name, m in reached.items() if m} == {}


def test_the_detector_imports_at_the_top_only() -> None:
    """A late or TYPE_CHECKING import is how an import circle hides."""
    hidden = {
        str(path.relative_to(DETECTOR)): sorted(m for m, nested in _imports(path) if nested and m.startswith("sim"))
        for path in sorted(DETECTOR.rglob("*.py"))
    }
    assert {name: m for name, m in hidden.items() if m} == {}


def test_the_checks_see_an_import_hidden_in_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("import os\n\ndef f():\n    from sim.detector.engine import Detector\n")
    assert ("sim.detector.engine", True) in _imports(module) and ("os", False) in _imports(module)
