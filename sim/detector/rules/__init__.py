"""The detector's rules, one family a module; each takes the detector as its context."""
