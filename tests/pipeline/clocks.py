"""Results less what the clock says: a run is reproducible bit for bit apart from its wall
times and start time, so tests that compare two runs compare them without those."""

from __future__ import annotations

import json


def without_clocks(out: dict) -> str:
    """A results or comparison dict as JSON, less what the clock says (wall times, start time)."""
    out = json.loads(json.dumps(out))
    if "run" in out:
        out["run"].pop("started_utc")
        out["run"].pop("wall_s")
    out.pop("started_utc", None)
    out.pop("wall_s", None)
    return json.dumps(out, indent=1)
