"""Calibration: a run's alerts held against the published record (``seeds/calibration.toml``).

``published`` reads the published figures and their sources; ``measures``
computes tagsim's figure on each one's definition from a policy's alerts;
``table`` puts the two side by side with their ratio.
"""
