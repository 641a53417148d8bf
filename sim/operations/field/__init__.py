"""The field force: its parameters, areas, jobs, the force itself (SimPy), its measures."""
