"""The people behind the alerts: the monitoring centre's operators and the field staff.

- ``erlang``: Erlang C, the M/M/c queue in closed form: the simulation's check and the
  staffing search's first guess.
"""
