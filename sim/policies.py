"""Detector policies by name: the shipped ones in ``seeds/policies/``, or a TOML file of your own."""

from __future__ import annotations

from pathlib import Path

from sim.detector.policy import Policy
from sim.seeds import ParamsError, build, load_toml, seeds_dir

POLICY_DIR = "policies"


def available_policies() -> list[str]:
    return sorted(p.stem for p in (seeds_dir() / POLICY_DIR).glob("*.toml"))


def load_policy(name_or_path: str) -> Policy:
    """A shipped policy by name (``naive``, ``standard``), or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix != ".toml":
        path = seeds_dir() / POLICY_DIR / f"{name_or_path}.toml"
        if not path.exists():
            raise ParamsError(f"unknown policy {name_or_path!r} (choose from {', '.join(available_policies())})")
    try:
        return build(Policy, load_toml(path), str(path))
    except ParamsError:
        raise
    except ValueError as exc:  # the policy's own consistency checks
        raise ParamsError(f"{path}: {exc}") from None
