"""The monitoring centre: its parameters, the alerts as it receives them, the desk (SimPy), its measures."""
