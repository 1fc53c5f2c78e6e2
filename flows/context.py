"""What every flow run needs: its engines, the rule settings and a run id for the audit."""

from __future__ import annotations

import contextvars
import uuid
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date

from prefect import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    FlowRunFilterParentFlowRunId,
    TaskRunFilter,
    TaskRunFilterState,
    TaskRunFilterStateType,
)
from prefect.client.schemas.objects import StateType
from prefect.runtime import flow_run
from prefect.states import Crashed

from csa_closure.db import engine_for
from csa_closure.locks import Lease, runs_checked
from csa_closure.logs import get_logger
from csa_closure.service.journey import Engines
from csa_closure.settings import RuleSettings, Settings, rule_settings
from load.maintenance import maintain_tables
from load.migrate import require_current_schema
from load.runs import finish_run, runs_left_running, start_run
from transform.codes import RunState

log = get_logger("maintenance")
runs_log = get_logger("runs")

UNFINISHED = [StateType.SCHEDULED, StateType.PENDING, StateType.RUNNING]
"""Flow and task run states a killed process leaves behind on the dashboard."""


def current_run_id() -> str:
    """The Prefect flow run's id, so the audit trail points at the dashboard's run."""
    return str(flow_run.get_id() or uuid.uuid4())


@contextmanager
def recorded_run(
    target, run_id: str, command: str, as_of: date | None, rules: RuleSettings, lease: Lease
) -> Iterator[None]:
    """The run's body, recorded in ``engine_run`` (``_record_start``); the body finishes the
    record. A body that raises leaves the run failed at once; a killed run (or one stopped by
    Ctrl-C) stays running for the next run to find, which marks its dashboard runs too."""
    _record_start(target, run_id, command, as_of, rules, lease)
    try:
        yield
    except Exception:
        try:
            finish_run(target, run_id, RunState.FAILED)
        except Exception as error:  # the run's own error is the one to raise
            runs_log.warning("could not record the run as failed", run=run_id, error=str(error))
        raise


def _record_start(target, run_id: str, command: str, as_of: date | None, rules: RuleSettings, lease: Lease) -> None:
    """Record the run in ``engine_run``; runs found to have ended without recording how are
    marked interrupted there, and crashed on the dashboard, where a killed run stays running."""
    if lease.taken_at is None:
        raise ValueError("a run is recorded by the flow that took the journey lock, not by its tasks")
    left = runs_left_running(target, lease.taken_at)
    if left:
        runs_log.warning("runs that ended unfinished marked interrupted", runs=",".join(left))
    # the dashboard first: killed before the record commits, the next run does both again
    show_crashed_on_dashboard(target, left, lease, run_id)
    start_run(target, run_id, command, as_of, rules, lease.taken_at)


def show_crashed_on_dashboard(target, run_ids: list[str], lease: Lease, by: str) -> None:
    """The runs, and the lock's previous holders (killed before they recorded themselves, or
    extracts and dispatches, which keep no ``engine_run`` row), marked Crashed on the dashboard
    where they still show as running, with their subflows and task runs: a killed process
    cannot say so. Once marked, the lease forgets its previous holders; until then (this run
    killed, the dashboard unreachable) the next holder checks them."""
    suspects = (set(run_ids) | set(lease.runs_to_check)) - {by}
    if not suspects:
        return
    try:
        crashed = _crashed_on_dashboard(sorted(suspects), by)
    except Exception as error:  # the dashboard's view is a courtesy: engine_run holds the record
        runs_log.warning("could not show the interrupted runs as crashed on the dashboard", error=str(error))
        return
    runs_checked(target, lease)
    if crashed:
        runs_log.warning("runs that ended unfinished shown crashed on the dashboard", runs=",".join(crashed))


def _crashed_on_dashboard(run_ids: list[str], by: str) -> list[str]:
    """Marks them; returns the flow runs it marked."""
    message = f"it no longer held the journey lock (its process ended, or the lock was taken); found by run {by}"
    running = TaskRunFilter(state=TaskRunFilterState(type=TaskRunFilterStateType(any_=UNFINISHED)))
    crashed = []
    with get_client(sync_client=True) as client:
        level = FlowRunFilter(id=FlowRunFilterId(any_=[uuid.UUID(run_id) for run_id in run_ids]))
        while runs := client.read_flow_runs(flow_run_filter=level):
            for run in runs:
                if run.state is None or run.state.type in UNFINISHED:
                    client.set_flow_run_state(run.id, Crashed(message=message), force=True)
                    crashed.append(str(run.id))
            for task_run in client.read_task_runs(flow_run_filter=level, task_run_filter=running):
                client.set_task_run_state(task_run.id, Crashed(message=message), force=True)
            level = FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run.id for run in runs]))
    return crashed


def engines_for_run(run_id: str, lease_token: int | None = None) -> Engines:
    """The engines and rules of this process (tasks call it; engines are cached per URL); with
    the journey lock's token, every write the run makes is fenced by it."""
    settings = Settings()
    return Engines(
        legacy=engine_for(settings.legacy_url, legacy=True),
        target=engine_for(settings.target_url),
        rules=rule_settings(),
        run_id=run_id,
        lease=None if lease_token is None else Lease(lease_token),
    )


def checked_engines(run_id: str) -> Engines:
    """``engines_for_run`` after refusing a target that ``init`` has not brought up to date."""
    engines = engines_for_run(run_id)
    require_current_schema(engines.target)
    return engines


def keep_tables_in_hand(target) -> None:
    """Fresh planner statistics, and dead rows reclaimed, where a run changed the target's tables
    enough (``load.maintenance``); called after units of work, never inside one's transaction."""
    maintained = maintain_tables(target)
    if maintained:
        log.info("tables analyzed, and vacuumed where rows were dead", tables=",".join(maintained))


class TablesKeptInHand:
    """``keep_tables_in_hand`` beside the journey's passes, as autovacuum would do it: a round
    in a thread of its own after a pass, or, while the last one is still going, one owed to the
    pass. Vacuum and analyze change no row and take no lock that a unit's writes wait for, so
    the next pass need not wait for them. Leaving the block waits for the last round and works
    the one owed, so the tables are in hand when the run's figures are read."""

    def __init__(self, target) -> None:
        self._target = target
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tables-kept-in-hand")
        self._round: Future | None = None
        self._owed = False

    def __enter__(self) -> TablesKeptInHand:
        return self

    def after_pass(self) -> None:
        if self._round is not None and not self._round.done():
            self._owed = True
            return
        if self._round is not None:
            self._round.result()  # a round that failed fails the run
        self._owed = False
        self._round = self._thread.submit(contextvars.copy_context().run, keep_tables_in_hand, self._target)

    def __exit__(self, *exc) -> None:
        self._thread.shutdown(wait=True)
        if exc[0] is None:
            if self._round is not None:
                self._round.result()
            if self._owed:
                keep_tables_in_hand(self._target)
