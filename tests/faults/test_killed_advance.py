"""Advances killed (SIGKILL) at the engine's commit boundaries, then run again to completion:
the state is the uninterrupted run's, every penny is accounted for, nothing is twice."""

from __future__ import annotations

import pytest
from fault_world import (  # noqa: F401
    AS_OF,
    backend,
    flow_run_state,
    invariant_breaks,
    lock_holder,
    run_interrupted,
    runs_in,
    runs_to_check,
    subflows_of,
    target_of,
    task_run_states,
    world,
)
from journey_tables import completed_units, journey_state
from prefect.client.schemas.objects import StateType

from csa_closure.db import engine_for
from flows.advance import advance
from transform.codes import RunState

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
    [killed] = runs_in(target, RunState.RUNNING)
    assert flow_run_state(killed) == StateType.RUNNING  # the dashboard cannot know it died

    advance(AS_OF)
    assert runs_in(target, RunState.INTERRUPTED) == [killed]
    assert flow_run_state(killed) == StateType.CRASHED
    assert journey_state(target) == world.reference
    assert invariant_breaks(target) == []
    assert completed_units(target) == completed_units(engine_for(world.advanced)), "a unit's record was lost"


def test_a_run_killed_while_it_extracts_first_shows_crashed_with_its_extract_once_the_next_run_starts(
    world, target_of
):
    url = target_of(world.migrated, "extract-first")
    run_interrupted(url, world, "extract-after-copy", *ADVANCE)
    target = engine_for(url)
    [killed] = runs_in(target, RunState.RUNNING)
    [extract] = subflows_of(killed)
    assert {flow_run_state(killed), flow_run_state(extract)} == {StateType.RUNNING}

    advance(AS_OF)
    assert runs_in(target, RunState.INTERRUPTED) == [killed]
    assert {flow_run_state(killed), flow_run_state(extract)} == {StateType.CRASHED}
    assert {*task_run_states(killed), *task_run_states(extract)} & {StateType.PENDING, StateType.RUNNING} == set()


def test_a_run_killed_before_it_records_itself_leaves_the_runs_it_found_for_the_next(world, target_of):
    url = target_of(world.planned, "run-record")
    target = engine_for(url)
    run_interrupted(url, world, "unit-after-commit", *ADVANCE, nth=1)
    [killed] = runs_in(target, RunState.RUNNING)
    run_interrupted(url, world, "run-before-record", *ADVANCE)
    unrecorded = lock_holder(target)
    assert flow_run_state(killed) == StateType.CRASHED
    assert runs_in(target, RunState.RUNNING) == [killed], "the marking committed without the run's record"
    assert flow_run_state(unrecorded) == StateType.RUNNING

    advance(AS_OF)
    assert runs_in(target, RunState.INTERRUPTED) == [killed]
    assert flow_run_state(unrecorded) == StateType.CRASHED  # found as the lock's last holder
    assert journey_state(target) == world.reference


def test_a_run_killed_before_it_checks_the_lock_s_last_holder_passes_that_holder_on(world, target_of):
    """An extract killed, then the next run killed before it showed the extract crashed on the
    dashboard: the run after that shows both crashed."""
    url = target_of(world.migrated, "double-kill")
    target = engine_for(url)
    run_interrupted(url, world, "extract-after-copy", "extract")
    extract = lock_holder(target)
    run_interrupted(url, world, "run-before-marking", *ADVANCE)
    unchecked = lock_holder(target)
    assert unchecked != extract
    assert {flow_run_state(extract), flow_run_state(unchecked)} == {StateType.RUNNING}

    advance(AS_OF)
    assert {flow_run_state(extract), flow_run_state(unchecked)} == {StateType.CRASHED}
    assert runs_to_check(target) is None, "the lease still passes on runs already checked"
