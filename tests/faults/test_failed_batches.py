"""A batch that fails its reconciliation fails alone; units worked by a pool of processes leave
what the flow's threads leave."""

from __future__ import annotations

from fault_world import AS_OF, backend, invariant_breaks, target_of, world  # noqa: F401
from journey_tables import journey_state
from sqlalchemy import func, select

import csa_closure.service.journey
import flows.advance
from csa_closure.db import engine_for
from csa_closure.service.reconcile import money_totals
from flows.advance import advance
from load.schema import batch_run, write_off


def test_a_batch_corrupted_before_its_commit_fails_alone_and_loads_nothing(world, target_of, monkeypatch):
    """Reconciliation inside the unit's transaction: one penny wrong, and the batch fails whole."""
    target = engine_for(target_of(world.planned, "corrupted"))
    victim = {}
    write = csa_closure.service.journey.write_changes

    def write_then_corrupt(conn, changes, *args, **kwargs):
        """Write as usual, then add a penny to one write-off of the first deciding batch."""
        write(conn, changes, *args, **kwargs)
        if not victim and len(changes.write_offs):
            case_ref = changes.write_offs["case_ref"].iloc[0]
            victim.update(case_ref=case_ref, batch_id=changes.outcomes.set_index("case_ref").at[case_ref, "batch_id"])
            conn.execute(
                write_off.update()
                .where(write_off.c.csa_case_ref == case_ref)
                .values(amount_pence=write_off.c.amount_pence + 1)
            )

    monkeypatch.setattr(csa_closure.service.journey, "write_changes", write_then_corrupt)
    state = advance(AS_OF, return_state=True)
    assert state.is_failed()
    with target.connect() as conn:
        runs = conn.execute(select(batch_run.c.batch_id, batch_run.c.state, batch_run.c.last_error)).all()
        decided = conn.execute(
            select(func.count()).select_from(write_off).where(write_off.c.csa_case_ref == victim["case_ref"])
        ).scalar_one()
        totals = money_totals(conn)
    failed = [(batch, error) for batch, run_state, error in runs if run_state == "FAILED"]
    assert [batch for batch, _ in failed] == [victim["batch_id"]]
    assert f"case {victim['case_ref']}" in failed[0][1] and "reconciliation" in failed[0][1]
    assert sum(1 for _, run_state, _ in runs if run_state == "COMPLETED") > 10
    assert decided == 0  # the failed unit was rolled back whole: nothing of it loaded
    assert len(totals) and (totals["difference"] == 0).all()  # what did load reconciles


def test_units_worked_by_a_pool_of_processes_leave_what_threads_leave(world, target_of, monkeypatch):
    """A step's batches run in processes when they are large enough (here: any)."""
    monkeypatch.setenv("CSA_POOL_FROM_BATCH_CASES", "1")
    pools = []
    real_pool = flows.advance.process_pool
    monkeypatch.setattr(flows.advance, "process_pool", lambda: pools.append(real_pool()) or pools[-1])
    target = engine_for(target_of(world.planned, "pooled"))
    state = advance(AS_OF, return_state=True)
    assert state.is_completed(), state.message
    assert len(pools) == 1  # started once, for the run
    assert journey_state(target) == world.reference
    assert invariant_breaks(target) == []
