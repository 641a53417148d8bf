"""The staffing answer for the field force (``sim.operations.staffing``): the fewest officers,
shift by shift, that hold every job's deadline and drain the backlog."""

from __future__ import annotations

import numpy as np

from sim.operations.field.measures import field_measures
from sim.operations.field.params import with_officers
from sim.operations.service import Caseload, run_field
from sim.operations.staffing import fewest_officers

from small_field import RADIUS, jobs_at, small_field

DAY = 86400.0
CASELOAD = Caseload(np.zeros((1, 2)), RADIUS, 2 * DAY, lambda purpose: np.random.default_rng((7, purpose)))


def test_the_field_answer_holds_every_deadline_drains_the_backlog_and_is_the_fewest_on_each_shift() -> None:
    params = small_field(officers=(1, 1), shift_hours=12.0)
    gen = np.random.default_rng(8)
    n = 400
    rows = [(float(t), str(k), float(x), float(y)) for t, k, x, y in
            zip(np.sort(gen.uniform(0, 2 * DAY, n)), gen.choice(["fitting", "removal", "breach"], n, p=[0.45, 0.45, 0.1]),
                gen.uniform(-600, 600, n), gen.uniform(-600, 600, n))]
    jobs = jobs_at(params, rows)
    answer = fewest_officers(jobs, params, CASELOAD, share=0.9)
    assert answer.staff is not None and answer.measures is not None

    def holds(staff: tuple[int, ...]) -> bool:
        roster = with_officers(params, staff)
        m = field_measures(run_field(jobs, roster, CASELOAD), roster, 1)
        return not m["overloaded"] and all(j["within_deadline_share"] is None or j["within_deadline_share"] >= 0.9
                                           for j in m["by_job"].values())

    assert holds(answer.staff)
    for shift in range(2):
        if answer.staff[shift] > 1:
            fewer = list(answer.staff)
            fewer[shift] -= 1
            assert not holds(tuple(fewer)), shift
