"""The README's detector example runs as written and does what its comment says."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_detector_example_raises_one_curfew_absence_at_the_end_of_grace() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    (example,) = [b for b in blocks if "Detector(" in b]
    namespace: dict[str, object] = {}
    exec(example, namespace)  # noqa: S102 - our own README
    alerts = namespace["detector"].alerts  # type: ignore[attr-defined]
    assert [(a.kind.value, a.category.value, a.raised_at) for a in alerts] == [("curfew-absence", "breach", 72600.0)]
