"""The engine as Prefect citizens: named and tagged runs, retries, failures and reruns, locks.

Asserted through the Prefect client against the session's test server, as the dashboard sees.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, date, datetime

from conftest import lock_held_by_another_run
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.client.schemas.sorting import TaskRunSort
from sqlalchemy import select
from test_report import contents

import csa_closure.service.journey
import flows.advance
from csa_closure.locks import JourneyBusy
from csa_closure.retry import TransientFault
from flows.advance import advance, rerun_failed
from flows.extraction import extract_legacy
from flows.letters import dispatch_letters
from flows.record import import_responses, record_event
from flows.report import report
from load.schema import batch_run, closure_outcome, engine_run, selection

START = date(2014, 7, 7)


async def settled(read, ready, settle_seconds: float = 60):
    """What ``read()`` returns once ``ready`` of it holds, or at the deadline: the server records
    task-run states from their events and takes run logs in batches, both a moment after the run
    (longer on a loaded machine), so an early read can be stale."""
    deadline = time.monotonic() + settle_seconds
    while True:
        found = await read()
        if ready(found) or time.monotonic() > deadline:
            return found
        await asyncio.sleep(0.5)


def task_runs_of(state) -> tuple:
    """The flow run and its task runs, once the server has a final state for each."""

    async def read():
        async with get_client() as client:
            flow_run = await client.read_flow_run(state.state_details.flow_run_id)
            runs = await client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run.id])),
                sort=TaskRunSort.EXPECTED_START_TIME_ASC,
                limit=200,
            )
            return flow_run, runs

    return asyncio.run(settled(read, lambda found: all(run.state and run.state.is_final() for run in found[1])))


def test_units_of_work_are_task_runs_named_like_the_plan_and_their_run_is_tagged_with_it(planned_target):
    state = advance(START, return_state=True)
    assert state.is_completed()
    flow_run, runs = task_runs_of(state)
    assert flow_run.name == f"advance-{START}"
    by_name = {run.name: run for run in runs}
    assert {"select-T0001-20140707", "start-T0001-B001-20140707", "start-T0001-B002-20140707"} <= set(by_name)
    assert {"step:select", "step:start", "tranche:T0001", "segments:1", f"as-of:{START}"} <= set(flow_run.tags)
    assert not by_name["start-T0001-B001-20140707"].tags  # each tag set would cost a slot service
    assert all(run.state.is_completed() for run in runs)


def artifacts(key: str) -> list[dict]:
    """Every version of an artifact key, newest first, straight from the REST API (this
    client's ``read_artifacts`` sends filters that this server version refuses or misreads)."""

    async def read():
        async with get_client() as client:
            response = await client._client.post(
                "/artifacts/filter",
                json={"artifacts": {"key": {"any_": [key]}}, "sort": "CREATED_DESC", "limit": 10, "offset": 0},
            )
            response.raise_for_status()
            return response.json()

    return asyncio.run(read())


def test_a_run_leaves_artifacts_under_stable_keys(planned_target):
    before = {key: {a["id"] for a in artifacts(key)} for key in ("holds-and-quarantine", "tranche-t0001")}
    advance(START)
    advance(START)  # works no tranche, but refreshes the holds and quarantine under its key

    def new_versions(key: str) -> list[dict]:
        return [a for a in artifacts(key) if a["id"] not in before[key]]

    assert len(new_versions("holds-and-quarantine")) == 2
    table = new_versions("tranche-t0001")
    assert len(table) == 1
    rows = json.loads(table[0]["data"])
    assert rows[0]["tranche"] == "T0001" and rows[-1]["outcome"] == "all"
    reconciliation = artifacts("tranche-t0001-reconciliation")[0]["data"]
    assert "reconciliation PASS" in reconciliation and "| creditor |" in reconciliation
    holds = json.loads(artifacts("holds-and-quarantine")[0]["data"])
    assert any("source table" in row for row in holds)
    assert artifacts(f"progress-{START:%Y%m%d}")[0]["data"] == 100.0


def test_structlog_events_appear_in_the_prefect_run_logs(planned_target):
    state = advance(START, return_state=True)

    async def units_done() -> list[dict]:
        """The run's "unit of work done" events."""
        async with get_client() as client:
            response = await client._client.post(
                "/logs/filter",
                json={"logs": {"flow_run_id": {"any_": [str(state.state_details.flow_run_id)]}},
                      "sort": "TIMESTAMP_ASC", "limit": 200, "offset": 0},
            )
            response.raise_for_status()
        events = [json.loads(entry["message"]) for entry in response.json() if entry["message"].startswith("{")]
        return [event for event in events if event["event"] == "unit of work done"]

    done = asyncio.run(settled(units_done, bool))
    assert done and {"run_id", "step", "batch_id", "due_on", "cases"} <= set(done[0])


def test_a_transient_fault_in_a_batch_is_retried_to_success(planned_target, monkeypatch):
    start_batch = csa_closure.service.journey.start_batch
    faults = []

    def lose_connection_once(engines, batch_id, selected_on):
        if batch_id == "T0001-B002" and not faults:
            faults.append(batch_id)
            raise TransientFault("connection lost")
        return start_batch(engines, batch_id, selected_on)

    monkeypatch.setattr(csa_closure.service.journey, "start_batch", lose_connection_once)
    state = advance(START, return_state=True)
    assert state.is_completed() and faults == ["T0001-B002"]
    _, runs = task_runs_of(state)
    retried = {run.name: run.run_count for run in runs}
    assert retried["start-T0001-B002-20140707"] == 2
    assert retried["start-T0001-B001-20140707"] == 1


def test_a_batch_that_fails_for_good_fails_the_flow_alone_and_reruns_once_mended(planned_target, monkeypatch, cli):
    start_batch = csa_closure.service.journey.start_batch

    def bad_data_in_one_batch(engines, batch_id, selected_on):
        if batch_id == "T0001-B001":
            raise ValueError("bad data in T0001-B001")
        return start_batch(engines, batch_id, selected_on)

    monkeypatch.setattr(csa_closure.service.journey, "start_batch", bad_data_in_one_batch)
    early = cli("rerun-failed")
    assert (early.exit_code, early.refused) == (2, "refused: the journey has not been advanced yet: nothing "
                                                   "can have failed")
    state = advance(START, return_state=True)
    assert state.is_failed()
    _, runs = task_runs_of(state)
    failed = [run for run in runs if run.state.is_failed()]
    assert [run.name for run in failed] == ["start-T0001-B001-20140707"]
    assert failed[0].run_count == 1  # bad data is never retried
    with planned_target.connect() as conn:
        batches = set(conn.execute(select(selection.c.batch_id).distinct()).scalars())
        assert len(batches) > 1
        loaded = set(conn.execute(select(closure_outcome.c.batch_id).distinct()).scalars())
        assert loaded == batches - {"T0001-B001"}
    # the money of the cases started adds up, but the report does not call that the whole story
    report = cli("report", "--format", "json")
    assert report.exit_code == 1
    document = json.loads(report.stdout)
    assert document["reconciliation_status"] == "INCOMPLETE"
    assert document["unfinished"] == ["start T0001-B001 2014-07-07 failed",
                                      "T0001-B001: 25 selected case(s) with no outcome"]

    monkeypatch.setattr(csa_closure.service.journey, "start_batch", start_batch)  # the cause is removed
    before = contents(planned_target)
    mistyped = cli("rerun-failed", "--tranche", "T9999")
    assert (mistyped.exit_code, mistyped.refused) == (2, "refused: unknown tranche T9999")
    assert contents(planned_target) == before
    state = rerun_failed(return_state=True)
    assert state.is_completed()
    _, runs = task_runs_of(state)
    assert [run.name for run in runs] == ["start-T0001-B001-20140707"]
    with planned_target.connect() as conn:
        states = dict(conn.execute(select(batch_run.c.batch_id, batch_run.c.state)).all())
        assert set(conn.execute(select(closure_outcome.c.batch_id).distinct()).scalars()) == batches
    assert states == dict.fromkeys(batches | {"T0001"}, "COMPLETED")
    report = cli("report", "--format", "json")
    assert report.exit_code == 0 and json.loads(report.stdout)["reconciliation_status"] == "PASS"


def test_a_run_stopped_by_an_error_is_recorded_failed_as_it_stops(planned_target, monkeypatch):
    def artifact_refused(target, tranche_id):
        raise RuntimeError("the Prefect API refused the artifact")

    publish_tranche = flows.advance.publish_tranche
    monkeypatch.setattr(flows.advance, "publish_tranche", artifact_refused)
    stopped = advance(START, return_state=True)
    assert stopped.is_failed() and "refused the artifact" in str(stopped.result(raise_on_failure=False))
    monkeypatch.setattr(flows.advance, "publish_tranche", publish_tranche)
    done = advance(START, return_state=True)
    assert done.is_completed()

    run, ids = engine_run.c, [str(stopped.state_details.flow_run_id), str(done.state_details.flow_run_id)]
    with planned_target.connect() as conn:
        runs = conn.execute(select(run.state, run.finished_at).where(run.run_id.in_(ids)).order_by(run.started_at))
        ended = [(state, finished_at is not None) for state, finished_at in runs]
    assert ended == [("FAILED", True), ("COMPLETED", True)]  # the next run left it failed


def test_each_command_s_run_is_named_for_what_it_does(planned_target, tmp_path):
    responses = tmp_path / "answers-week-28.csv"
    responses.write_text("event,case\n")
    states = {
        "extract-all": extract_legacy(return_state=True),
        "extract-1993": extract_legacy(("1993",), return_state=True),
        "report-all": report(return_state=True),
        "report-T0001": report("T0001", return_state=True),
        "import-responses-answers-week-28.csv": import_responses(str(responses), return_state=True),
        f"dispatch-letters-{datetime.now(UTC):%Y-%m-%d}": dispatch_letters(tmp_path / "print", return_state=True),
        "record-extension-C930000008": record_event(
            {"event": "extension", "case": "C930000008", "received": "2014-08-01"}, return_state=True
        ),
        "record-new-application-P000000001": record_event(
            {"event": "new-application", "nrp": "P000000001", "pwc": "P000000002", "received": "2014-08-01"},
            return_state=True,
        ),
        "rerun-failed-all": rerun_failed(return_state=True),
        "rerun-failed-T0001": rerun_failed("T0001", return_state=True),
    }
    with get_client(sync_client=True) as client:
        names = [client.read_flow_run(state.state_details.flow_run_id).name for state in states.values()]
    assert names == list(states)


def test_a_second_run_is_refused_while_one_works_the_journey(planned_target):
    with lock_held_by_another_run(planned_target):
        state = advance(START, return_state=True)
    assert state.is_failed()
    assert isinstance(state.result(raise_on_failure=False), JourneyBusy)
    with planned_target.connect() as conn:
        assert conn.execute(select(batch_run)).first() is None  # the refused run did nothing


def test_an_advance_to_a_day_the_journey_has_passed_says_so_and_changes_nothing(planned_target, cli):
    assert cli("advance", "--as-of", "2014-7-14").stdout.rstrip().endswith("advanced to 2014-07-14")
    with planned_target.connect() as conn:
        before = conn.execute(select(closure_outcome).order_by(closure_outcome.c.csa_case_ref)).all()

    earlier = cli("advance", "--as-of", "2014-07-07")

    assert (earlier.exit_code, earlier.exception) == (0, None)
    assert "the journey had already advanced to 2014-07-14: nothing was due up to 2014-07-07" in earlier.stdout
    with planned_target.connect() as conn:
        assert conn.execute(select(closure_outcome).order_by(closure_outcome.c.csa_case_ref)).all() == before
