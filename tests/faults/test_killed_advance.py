"""Advances killed (SIGKILL) at the engine's commit boundaries, then run again to completion:
the state is the uninterrupted run's, every penny is accounted for, nothing is twice."""

from __future__ import annotations

import pytest
from fault_world import AS_OF, backend, invariant_breaks, run_interrupted, target_of, world  # noqa: F401
from journey_tables import completed_units, journey_state
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId
from prefect.client.schemas.objects import StateType
from sqlalchemy import select

from csa_closure.db import engine_for
from flows.advance import advance
from load.schema import engine_run
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
    assert flow_run_state(killed) == StateType.CRASHED
    assert runs_in(target, RunState.RUNNING) == [killed], "the marking committed without the run's record"

    advance(AS_OF)
    assert runs_in(target, RunState.INTERRUPTED) == [killed]
    assert journey_state(target) == world.reference


def runs_in(target, state: RunState) -> list[str]:
    with target.connect() as conn:
        return list(conn.execute(select(engine_run.c.run_id).where(engine_run.c.state == state)).scalars())


def flow_run_state(run_id: str) -> StateType:
    """The run's state as the dashboard shows it."""
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state.type


def subflows_of(run_id: str) -> list[str]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run_id]))
        )
    return [str(run.id) for run in runs]


def task_run_states(run_id: str) -> list[StateType]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    return sorted(run.state.type for run in runs if run.state)
