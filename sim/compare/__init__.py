"""Procurement: suppliers compared on the same scenarios, replicated, with intervals.

- ``metrics``: what a buyer compares on, and which way is better.
- ``observations``: every metric's value per supplier, policy and replication so far.
- ``replicate``: the runs: every supplier on each replication's seed (common random numbers),
  a fixed number of replications or as many as a precision needs.
- ``stats``: t intervals, Welch's unpaired interval, the Bonferroni level, verdicts.
- ``summary``: the observations summed up: means, paired differences, verdicts.
- ``outputs``: ``compare.json``, ``compare.csv``, ``compare.html`` and the terminal's table.
"""
