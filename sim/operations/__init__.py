"""The people behind the alerts: the monitoring centre's operators (field staff not built yet).

- ``params``: the centre's rota, alert classes, priorities, deadlines and handling times
  (``seeds/operations/centre.toml``), checked.
- ``arrivals``: a policy's operator-facing alerts as the centre receives them, by class.
- ``centre``: the centre itself (SimPy): operators on the rota taking alerts in priority order.
- ``measures``: what a centre run comes to (time to action, deadlines, overload, Little's law).
- ``staffing``: the fewest operators a shift that hold every deadline, by simulation.
- ``erlang``: Erlang C, the M/M/c queue in closed form: the simulation's check and the
  staffing search's first guess.
"""
