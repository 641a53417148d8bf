"""The service (``sim.operations.service``): the centre's visits and the field's jobs agree before
anything runs, and one policy's alerts go through both."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from sim.operations.centre.arrivals import plain_arrivals
from sim.operations.centre.params import load_centre
from sim.operations.field.jobs import ORDER_FLOW, VISITS
from sim.operations.field.params import load_field
from sim.operations.service import Caseload, check_visits, run_service
from sim.seeds import ParamsError

DAY = 86400.0


def test_a_visit_the_field_has_no_job_for_is_one_error_before_anything_runs() -> None:
    centre, field = load_centre(), load_field()
    check_visits(centre, field)  # the shipped files agree
    tamper = replace(centre.classes.tamper, visit_job="strap-lab")
    with pytest.raises(ParamsError, match=r"centre\.toml: classes: tamper: visit_job 'strap-lab' is no job of "
                                          r"operations/field\.toml \(its jobs: breach, fault, fitting, removal, tamper\)"):
        check_visits(replace(centre, classes=replace(centre.classes, tamper=tamper)), field)


def test_every_visit_the_centre_asks_for_is_a_field_job_at_the_subjects_home() -> None:
    gen = np.random.default_rng(1)
    homes = gen.uniform(-9_000, 6_000, (200, 2))
    n = 2_000
    alerts = replace(plain_arrivals(np.sort(gen.uniform(0, 3 * DAY, n)), gen.integers(0, 4, n)),
                     subject=gen.integers(0, 200, n), confirmed=gen.random(n) < 0.5)
    caseload = Caseload(homes, 10_000.0, 3 * DAY, lambda purpose: np.random.default_rng((4, purpose)))
    run = run_service(alerts, load_centre(), load_field(), caseload)
    time, job, subject = run.centre.visits()
    jobs = run.field.jobs
    visits = jobs.source == VISITS
    assert visits.sum() == len(time) > 0 and (jobs.source[~visits] == ORDER_FLOW).all()
    assert np.array_equal(np.sort(jobs.due[visits]), np.sort(time))
    assert np.allclose(jobs.x[visits][np.argsort(jobs.due[visits], kind="stable")], homes[subject, 0])
