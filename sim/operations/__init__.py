"""The people behind the alerts: the monitoring centre's operators and the field force.

- ``rota``: shifts round the clock, staff on each, shrinkage; ``handling``: how long a task takes.
- ``centre``: the centre's parameters, its arrivals (alerts by class and incident), the desk
  itself (SimPy: operators taking incidents by priority, interruptions, calls, notices, visits
  asked) and its measures.
- ``field``: the field force's parameters, its areas, its jobs (the order flow's fittings and
  removals, the centre's visits), the force itself (SimPy: officers by area driving job to job)
  and its measures.
- ``service``: one policy's alerts through the centre and then the field.
- ``staffing``: the fewest operators and officers, shift by shift, that hold every deadline.
- ``erlang``: Erlang C, the M/M/c queue in closed form: the check and the first guess.
- ``steps``, ``deadlines``: counts over time and shares within deadlines, for both.
- ``export``: the service's CSVs.
"""
