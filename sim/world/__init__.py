"""The world: the only place that knows the truth (where subjects are, what they do, what goes wrong)."""
