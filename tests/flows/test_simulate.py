"""``simulate``, the main job of ``./dev run``: the whole journey with simulated parents, its
units worked by the pool of processes as a full-size estate's are."""

from __future__ import annotations

from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
from sqlalchemy import func, select

from csa_closure.db import engine_for
from csa_closure.settings import rule_settings
from extract import legacy_schema as legacy
from load.schema import batch_run, closure_outcome, engine_run, legacy_case, operator_event, quarantine
from transform.codes import UnitState


def test_simulate_works_the_journey_in_a_pool_of_processes_with_parents_answering(
    legacy_url, target_url, tmp_path, monkeypatch, prefect_harness, cli
):
    for name, value in {
        "CSA_LEGACY_URL": legacy_url, "CSA_TARGET_URL": target_url, "CSA_LETTERS_DIR": str(tmp_path / "letters"),
        "CSA_RULE_TRANCHE_CAPACITY": "150", "CSA_RULE_BATCH_SIZE": "50", "CSA_POOL_FROM_BATCH_CASES": "1",
        "CSA_RULE_LIABILITY_NOTICE_MONTHS": "1", "CSA_RULE_REMINDER_MONTHS_BEFORE_END": "0",
    }.items():
        monkeypatch.setenv(name, value)
    rule_settings.cache_clear()
    result = cli("simulate", "--cases", "300", "--start", "2014-07-07", "--end", "2014-08-17")
    rule_settings.cache_clear()
    assert result.exit_code == 0, result.stderr or result.exception
    assert "simulated" in result.stdout
    with engine_for(target_url).connect() as conn:
        states = dict(conn.execute(select(batch_run.c.state, func.count()).group_by(batch_run.c.state)).all())
        closed = conn.execute(select(func.count()).where(closure_outcome.c.journey_state == "CLOSED")).scalar_one()
        answers = conn.execute(select(func.count()).select_from(operator_event)).scalar_one()
        run_id = conn.execute(select(engine_run.c.run_id).where(engine_run.c.command == "simulate")).scalar_one()
    assert states.get(UnitState.COMPLETED, 0) > 2 and UnitState.FAILED not in states
    assert closed > 0 and answers > 0
    assert run_names(run_id) == ("simulate-300-cases-2014-07-07-to-2014-08-17",
                                 ["extract-all", "generate-300-cases-seed-1", "plan-from-2014-07-07"])

    before = row_counts(legacy_url, target_url)
    again = cli("simulate", "--cases", "200", "--start", "2014-07-07", "--end", "2014-08-17")
    assert again.exit_code == 2
    assert again.refused == "refused: --start 2014-07-07 is not after 2014-08-17, the date the journey has advanced to"
    assert row_counts(legacy_url, target_url) == before, "a refused simulation replaced the estate"


def row_counts(legacy_url: str, target_url: str) -> dict[str, int]:
    """How many rows the legacy estate's cases and the target's snapshot, quarantine and runs hold."""
    counts = {}
    for url, tables in ((legacy_url, (legacy.cscs_case, legacy.cs2_case)),
                        (target_url, (legacy_case, quarantine, engine_run))):
        with engine_for(url).connect() as conn:
            counts |= {table.name: conn.execute(select(func.count()).select_from(table)).scalar_one()
                       for table in tables}
    return counts


def run_names(run_id: str) -> tuple[str, list[str]]:
    """A flow run's name and its subflows' names, as the dashboard lists them."""
    with get_client(sync_client=True) as client:
        subflows = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run_id]))
        )
        return client.read_flow_run(run_id).name, sorted(run.name for run in subflows)
