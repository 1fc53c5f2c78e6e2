"""The advance flow: everything due up to an as-of date, in date order, batch by batch.

The flow only orchestrates: it asks the target what is due (``load.journey.due_work``), runs
each unit of work as a Prefect task named by step, batch and date (the flow run is tagged with
the steps, tranches and segment groups it worked; a unit records its completion in
``batch_run`` with its writes, the flow records a failure), and moves the journey clock. What
a unit does is in ``csa_closure.service.journey``; the rules are in ``transform``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pandas as pd
from prefect import Task, flow, get_client, task
from prefect.context import FlowRunContext
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Failed
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from csa_closure.locks import JourneyLockLost, Lease, fenced, journey_lock
from csa_closure.logs import bind_context, get_logger
from csa_closure.refusal import Refusal
from csa_closure.retry import retry_on_transient
from csa_closure.service import journey
from csa_closure.settings import RuleSettings, Settings
from flows.artifacts import RunProgress, publish_holds_and_quarantine, publish_tranche
from flows.context import TablesKeptInHand, checked_engines, current_run_id, engines_for_run, recorded_run
from flows.extraction import extract_if_newer
from flows.runners import LocalOrCluster
from flows.workers import POOL_WORKERS, process_pool, share_api_with_workers
from load.journey import (
    StaleCases,
    advanced_to,
    due_work,
    failed_work,
    move_clock,
    record_batch_run,
    segment_groups,
    tranches_worked,
)
from load.report import tranche_known
from load.runs import finish_run
from transform.codes import RunState, Step, UnitState

log = get_logger("advance")


def _plan_tags(units: pd.DataFrame, groups: dict[str, str]) -> list[str]:
    """Tags that read like the operations plan: the steps, tranches and segments of ``units``.

    They go on the flow run, not on the units' task runs: Prefect starts a concurrency-slot
    service for each distinct set of task-run tags, which is slow. A unit's name carries its step,
    tranche, batch and due date; the as-of date is a flow run tag too.
    """
    tranches = units["batch_id"].str.split("-B").str[0]
    tags = {f"step:{step.lower()}" for step in units["step"]} | {f"tranche:{t}" for t in tranches}
    return sorted(tags | {f"segments:{groups[t]}" for t in tranches if t in groups})


def tag_flow_run(*tags: str) -> None:
    """Add tags to the running flow run, so the dashboard can filter runs by them."""
    run = flow_run.get_id()
    if run is None:
        return
    with get_client(sync_client=True) as client:
        current = set(client.read_flow_run(run).tags)
        if not current.issuperset(tags):  # a run works the same tranches day after day
            client.update_flow_run(run, tags=sorted(current | set(tags)))


@task(retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=retry_on_transient)
def journey_step(step: str, batch_id: str, due_on: date, as_of: date, run_id: str, lease_token: int) -> dict:
    """One unit of work: a step of one batch (or tranche) on one date, in one transaction,
    fenced by the run's journey lock."""
    unit = {"batch_id": batch_id, "step": step, "due_on": due_on}
    engines = replace(engines_for_run(run_id, lease_token), unit=unit)
    bind_context(run_id=run_id, step=step, batch_id=batch_id, due_on=due_on.isoformat())
    work = {
        Step.EVENTS: lambda: journey.apply_batch_events(engines, batch_id, due_on, as_of),
        Step.REACTIVE: lambda: journey.close_reactively(engines, due_on),
        Step.SELECT: lambda: journey.select_tranche(engines, batch_id),
        Step.START: lambda: journey.start_batch(engines, batch_id, due_on),
        Step.REMIND: lambda: journey.remind_batch(engines, batch_id, due_on),
        Step.END: lambda: journey.end_batch(engines, batch_id, due_on),
        Step.DEADLINE: lambda: journey.lapse_batch(engines, batch_id, due_on),
    }[step]
    counts = work()
    log.info("unit of work done", **counts)
    return counts


STALE_LIMIT = 5
"""How often one unit may find its cases changed under it before it counts as failed."""


class UnitRunner:
    """Where a pass's units run: the flow's own task runner (its threads, or a cluster's
    workers), or, for several large batches at once on this machine, the flow's process and a
    pool of processes side by side, a unit each in turn, as the extract's batches are: the
    units' rules are CPU-bound Python, which threads share one core for. The pool is started at
    the first such pass and kept for the rest of the run."""

    def __init__(self, rules: RuleSettings) -> None:
        self._large = rules.batch_size >= Settings().pool_from_batch_cases
        self._pool: ProcessPoolTaskRunner | None = None

    def __enter__(self) -> UnitRunner:
        return self

    def __exit__(self, *exc) -> None:
        if self._pool is not None:
            self._pool.__exit__(*exc)

    def submit_pass(self, units: list[tuple[Task, dict]]) -> list[PrefectFuture]:
        """Submit a pass's units (each a task and its parameters); their futures, in order."""
        if len(units) < 2 or not self._large or not _threads_of_this_flow():
            return [task.submit(**parameters) for task, parameters in units]
        if self._pool is None:
            share_api_with_workers()
            self._pool = process_pool().__enter__()
        lanes = POOL_WORKERS + 1
        return [
            task.submit(**parameters) if position % lanes == 0 else self._pool.submit(task, parameters)
            for position, (task, parameters) in enumerate(units)
        ]


def _threads_of_this_flow() -> bool:
    context = FlowRunContext.get()
    return context is not None and isinstance(context.task_runner, ThreadPoolTaskRunner)


def run_units(
    units: pd.DataFrame, as_of: date, run_id: str, lease: Lease, runner: UnitRunner
) -> tuple[list[str], set[tuple]]:
    """Run units of work as tasks and record each one's outcome. Returns the failures, and the
    units that found their cases changed by an operator's event meanwhile: they committed
    nothing and are planned again (the event may now come first)."""
    engines = engines_for_run(run_id)
    with engines.target.connect() as conn:
        groups = segment_groups(conn)
    tag_flow_run(*_plan_tags(units, groups))
    calls = []
    for unit in units.itertuples(index=False):
        due_on = unit.due_on.date()
        name = f"{unit.step.lower()}-{unit.batch_id}-{due_on:%Y%m%d}"
        parameters = dict(step=unit.step, batch_id=unit.batch_id, due_on=due_on, as_of=as_of, run_id=run_id,
                          lease_token=lease.token)
        calls.append((journey_step.with_options(task_run_name=name), parameters))
    futures = runner.submit_pass(calls)
    failures, stale, lost = [], set(), None
    for unit, future in zip(units.itertuples(index=False), futures, strict=True):
        due_on = unit.due_on.date()
        key = {"batch_id": unit.batch_id, "step": unit.step, "due_on": due_on}
        future.wait()
        state = future.state
        error = None if state.is_completed() else state.result(raise_on_failure=False)
        if isinstance(error, JourneyLockLost):
            lost = error
            continue
        if isinstance(error, StaleCases):
            stale.add((unit.due_on, unit.step, unit.batch_id))
            continue
        if error is None:  # the unit recorded its completion with its writes
            continue
        message = str(state.message or state.name)[:2000]
        try:
            with fenced(engines.target, lease) as conn:
                record_batch_run(conn, key, UnitState.FAILED, run_id, message)
            failures.append(f"{unit.step} {unit.batch_id} {due_on}: {message}")
        except JourneyLockLost as error:
            lost = error
    if lost is not None:
        raise lost
    return failures, stale


def work_through(
    as_of: date, run_id: str, lease: Lease, runner: UnitRunner, progress: RunProgress | None = None
) -> list[str]:
    """Run what is due, earliest date first and in step order within a day, until nothing is
    left; work a unit creates for the same day (a selection's batches) runs in the same pass.
    Before each pass the run checks that it still holds the journey lock; after it, the tables
    it changed are vacuumed and analyzed beside the next."""
    engines = engines_for_run(run_id)
    failures: list[str] = []
    done: set[tuple] = set()
    stale_counts: dict[tuple, int] = {}
    with TablesKeptInHand(engines.target) as tables:
        while True:
            lease.check()
            with engines.target.connect() as conn:
                due = due_work(conn, as_of)
            if due.empty:
                return failures
            if progress:
                progress.reached(due["due_on"].min().date())
            first = due[due["due_on"] == due["due_on"].min()]
            units = first[first["step"] == first["step"].iloc[0]]
            keys = set(units.itertuples(index=False, name=None))
            if keys & done:
                raise RuntimeError(f"work due again after it completed: {sorted(keys & done)[:3]}")
            more_failures, stale = run_units(units, as_of, run_id, lease, runner)
            failures += more_failures
            tables.after_pass()
            done |= keys - stale
            for key in stale:
                stale_counts[key] = stale_counts.get(key, 0) + 1
                if stale_counts[key] >= STALE_LIMIT:
                    raise RuntimeError(f"{key[1]} {key[2]} {key[0]:%Y-%m-%d}: its cases kept changing under it")
            if stale:
                log.info("units planned again: their cases changed meanwhile", units=len(stale))


@flow(name="advance", flow_run_name="advance-{as_of}", task_runner=LocalOrCluster(ThreadPoolTaskRunner(max_workers=2)))
def advance(as_of: date):
    """Do everything due up to ``as_of``; again for the same date, nothing changes. Retried
    from the dashboard, it first reruns the units that failed, as ``rerun-failed`` does."""
    run_id = current_run_id()
    engines = checked_engines(run_id)
    bind_context(run_id=run_id, as_of=as_of.isoformat())
    tag_flow_run(f"as-of:{as_of:%Y-%m-%d}")
    with (
        journey_lock(engines.target, "advance", run_id) as lease,
        recorded_run(engines.target, run_id, "advance", as_of, engines.rules, lease),
    ):
        extract_if_newer()
        with engines.target.connect() as conn:
            clock = advanced_to(conn)
        log.info("advance started", advanced_to=clock.isoformat() if clock else None)
        progress = RunProgress(clock or as_of, as_of)
        with UnitRunner(engines.rules) as runner:
            failures = rerun_units(None, as_of, run_id, lease, runner) if (flow_run.run_count or 1) > 1 else []
            failures += advance_journey(as_of, run_id, lease, runner, progress)
        progress.reached(as_of)
        reached = max(clock, as_of) if clock else as_of  # the clock never goes back
        return _finish(engines, run_id, failures, {"as_of": as_of.isoformat(), "advanced_to": reached.isoformat()})


def advance_journey(
    as_of: date, run_id: str, lease: Lease, runner: UnitRunner, progress: RunProgress | None = None
) -> list[str]:
    """Work through what is due up to ``as_of`` and move the clock there; the caller holds the
    journey lock (``lease``). Returns the units that failed."""
    failures = work_through(as_of, run_id, lease, runner, progress)
    with fenced(engines_for_run(run_id).target, lease) as conn:
        clock = advanced_to(conn)
        if clock is None or as_of > clock:
            move_clock(conn, as_of)
    return failures


@flow(
    name="rerun-failed",
    flow_run_name=lambda: f"rerun-failed-{flow_run.parameters.get('tranche_id') or 'all'}",
    task_runner=LocalOrCluster(ThreadPoolTaskRunner(max_workers=2)),
)
def rerun_failed(tranche_id: str | None = None):
    """Run again every unit of work whose last attempt failed (of one tranche, or all), then
    whatever their success makes due up to the journey clock; completed units are not touched."""
    run_id = current_run_id()
    engines = checked_engines(run_id)
    with engines.target.connect() as conn:
        clock = advanced_to(conn)
        known = tranche_id is None or tranche_known(conn, tranche_id)
    if clock is None:
        raise Refusal("the journey has not been advanced yet: nothing can have failed")
    if not known:
        raise Refusal(f"unknown tranche {tranche_id}")
    with (
        journey_lock(engines.target, "rerun-failed", run_id) as lease,
        recorded_run(engines.target, run_id, "rerun-failed", clock, engines.rules, lease),
    ):
        with UnitRunner(engines.rules) as runner:
            failures = rerun_units(tranche_id, clock, run_id, lease, runner)
            failures += work_through(clock, run_id, lease, runner)
        return _finish(engines, run_id, failures, {"as_of": clock.isoformat()})


def rerun_units(tranche_id: str | None, as_of: date, run_id: str, lease: Lease, runner: UnitRunner) -> list[str]:
    """The failed units, run again in the order they were due (one that finds its cases changed
    is left to the pass that follows)."""
    engines = engines_for_run(run_id)
    with engines.target.connect() as conn:
        failed = failed_work(conn, tranche_id)
    log.info("rerunning failed units", units=len(failed), tranche=tranche_id)
    return run_units(failed, as_of, run_id, lease, runner)[0] if len(failed) else []


def publish_artifacts(engines, run_id: str) -> None:
    """Refresh the artifacts of every tranche the run worked, and the holds and quarantine."""
    with engines.target.connect() as conn:
        worked = tranches_worked(conn, run_id)
    for tranche_id in worked:
        publish_tranche(engines.target, tranche_id)
    publish_holds_and_quarantine(engines.target)


def _finish(engines, run_id: str, failures: list[str], summary: dict):
    publish_artifacts(engines, run_id)
    finish_run(engines.target, run_id, RunState.FAILED if failures else RunState.COMPLETED)
    if failures:
        log.error("run finished with failed units", failed=len(failures))
        return Failed(message=f"{len(failures)} unit(s) of work failed; first: {failures[0]}")
    log.info("run finished")
    return summary | {"run_id": run_id}
