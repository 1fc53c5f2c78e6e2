"""Advances killed (SIGKILL) at the engine's commit boundaries, then run again to completion:
the state is the uninterrupted run's, every penny is accounted for, nothing is twice."""

from __future__ import annotations

import pytest
from fault_world import AS_OF, backend, invariant_breaks, run_interrupted, target_of, world  # noqa: F401
from journey_tables import completed_units, journey_state

from csa_closure.db import engine_for
from flows.advance import advance

ADVANCE = ("advance", "--as-of", AS_OF.isoformat())


@pytest.mark.parametrize(
    "point, nth",
    [
        ("selection-after-commit", 2),  # a tranche selected; its batches not started
        ("unit-before-commit", 4),  # a batch's writes done inside its transaction
        ("unit-after-commit", 7),  # a batch committed, the run not told
    ],
)
def test_an_advance_killed_at_a_commit_boundary_reruns_to_the_uninterrupted_state(world, target_of, point, nth):
    url = target_of(world.planned, "advance")
    run_interrupted(url, world, point, *ADVANCE, nth=nth)
    target = engine_for(url)
    assert journey_state(target) != world.reference, "the run was not interrupted"
    assert invariant_breaks(target) == []

    advance(AS_OF)
    assert journey_state(target) == world.reference
    assert invariant_breaks(target) == []
    assert completed_units(target) == completed_units(engine_for(world.advanced)), "a unit's record was lost"
