"""The detector's rules, one family a module; each sees the detector only through its ``RuleContext``."""
