"""The plan flow: record and show the tranche schedule (RULEBOOK.md section 2)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd
from prefect import flow

from csa_closure.locks import fenced, journey_lock
from csa_closure.logs import get_logger
from csa_closure.refusal import Refusal
from csa_closure.service.journey import group_label
from flows.context import checked_engines, current_run_id, recorded_run
from flows.extraction import extract_if_newer
from load.journey import (
    advanced_to,
    latest_extract_date,
    plannable_cases,
    replace_plan,
    selected_planned_tranches,
    tranche_schedule,
    unselected_snapshot,
)
from load.runs import finish_run
from transform.codes import RunState, TrancheKind
from transform.segments import classify_segments
from transform.tranches import plan_tranches

log = get_logger("plan")


@dataclass(frozen=True)
class PlanSummary:
    schedule: pd.DataFrame
    nothing_to_do: int
    unplanned: int
    legacy_empty: bool = False
    """The legacy database holds no extract (and none was recorded before): nothing to plan."""


@flow(name="plan", flow_run_name="plan-from-{start}")
def plan(
    start: date, until: date | None = None, capacity: int | None = None, interval_days: int | None = None
) -> PlanSummary:
    """Walk the segment groups from ``start`` and record one planned tranche per selection date;
    the planned tranches not selected yet are replaced."""
    run_id = current_run_id()
    engines = checked_engines(run_id)
    overrides = {"tranche_capacity": capacity, "selection_interval_days": interval_days}
    rules = engines.rules.model_copy(update={k: v for k, v in overrides.items() if v is not None})
    with journey_lock(engines.target, "plan", run_id) as lease:
        require_start_after_clock(engines.target, start)
        with recorded_run(engines.target, run_id, "plan", start, rules, lease):
            return _plan(engines, run_id, lease, start, until, rules)


def require_start_after_clock(target, start: date) -> None:
    """A plan starts after the date the journey has advanced to, or is refused (changing nothing)."""
    with target.connect() as conn:
        clock = advanced_to(conn)
    if clock is not None and start <= clock:
        raise Refusal(f"--start {start} is not after {clock}, the date the journey has advanced to")


def _plan(engines, run_id, lease, start, until, rules) -> PlanSummary:
    first = extract_if_newer()
    with engines.target.connect() as conn:
        numbered_from = selected_planned_tranches(conn)
        kept_from = latest_extract_date(conn)
        if kept_from is None or start >= kept_from:  # the kept segments hold from the first date
            unselected = plannable_cases(conn)
            kept = unselected["segment"]
            segment_on = lambda _on: kept  # noqa: E731
        else:
            unselected = unselected_snapshot(conn)
            segment_on = lambda on: classify_segments(unselected, on, rules)  # noqa: E731
    walk = plan_tranches(
        unselected[["case_ref", "case_start_date"]],
        segment_on,
        pd.Timestamp(start),
        pd.Timestamp(until) if until else None,
        rules,
    )
    numbers = range(numbered_from + 1, numbered_from + len(walk.tranches) + 1)
    tranches = walk.tranches.assign(
        tranche_id=[f"T{number:04d}" for number in numbers],
        kind=TrancheKind.PLANNED.value,
        segment_group=[group_label(g, rules) for g in walk.tranches["segment_group"]],
        capacity=rules.tranche_capacity,
        selected_cases=pd.array([pd.NA] * len(walk.tranches), dtype="Int64"),
    )
    with fenced(engines.target, lease) as conn:
        replace_plan(conn, tranches)
        schedule = tranche_schedule(conn)
    finish_run(engines.target, run_id, RunState.COMPLETED)
    log.info("plan recorded", tranches=len(tranches), nothing_to_do=walk.nothing_to_do, unplanned=walk.unplanned)
    legacy_empty = first.legacy_empty and unselected.empty and schedule.empty
    return PlanSummary(schedule, walk.nothing_to_do, walk.unplanned, legacy_empty)
