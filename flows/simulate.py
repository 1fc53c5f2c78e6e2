"""The simulate flow: a synthetic estate taken through the whole journey, with simulated
parents' answers recorded as operations would record them (CSV imports), day by day.

Only days on which something is due or a parent acts are visited: every other day would
advance nothing. Responses received on a day are imported after advancing to it (an event may
not be dated after the journey clock) and applied, dated that day, by the next advance.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from csa_closure.db import engine_for
from csa_closure.locks import journey_lock
from csa_closure.logs import get_logger
from csa_closure.settings import Settings, rule_settings
from flows.advance import UnitRunner, advance_journey, publish_artifacts
from flows.artifacts import RunProgress
from flows.context import current_run_id, engines_for_run, recorded_run
from flows.estate import generate_estate_flow
from flows.extraction import extract_legacy
from flows.plan import plan, require_start_after_clock
from flows.record import read_responses, store_events
from load.journey import cases_awaiting_choice, cases_given_liability_end, due_work
from load.migrate import upgrade_target
from load.runs import finish_run
from synthetic import parents
from transform.codes import RunState

log = get_logger("simulate")
RESPONSE_COLUMNS = ["event", "case", "service", "choice", "received"]


def _newly(cases: pd.DataFrame, seen: set[str]) -> pd.DataFrame:
    """The cases not seen before, now seen."""
    fresh = cases[~cases["case_ref"].isin(seen)]
    seen.update(fresh["case_ref"])
    return fresh


@flow(
    name="simulate",
    flow_run_name="simulate-{cases}-cases-{start}-to-{end}",
    validate_parameters=False,
    task_runner=ThreadPoolTaskRunner(max_workers=2),
)
def simulate(
    cases: int,
    start: date,
    end: date,
    seed: int = 1,
    replace: bool = False,
) -> dict:
    """Generate, extract, plan from ``start`` and advance to ``end`` with simulated parents
    (``replace``: overwrite a legacy database that holds no synthetic estate)."""
    settings = Settings()
    target = engine_for(settings.target_url)
    upgrade_target(target)
    responses_dir = Path(settings.letters_dir).parent / "simulation"
    run_id = current_run_id()
    rules = rule_settings()
    with journey_lock(target, "simulate", run_id) as lease:
        require_start_after_clock(target, start)  # before the estate is generated: a refusal changes nothing
        responses_dir.mkdir(parents=True, exist_ok=True)
        with recorded_run(target, run_id, "simulate", end, rules, lease):
            generate_estate_flow(cases=cases, seed=seed, extract_date=date(2014, 6, 30), replace=replace)
            extract_legacy()
            plan(start)
            with UnitRunner(rules) as runner:
                summary = _simulate_days(target, start, end, seed, run_id, lease, runner, responses_dir)
            publish_artifacts(engines_for_run(run_id), run_id)
            finish_run(target, run_id, RunState.FAILED if summary["failed_units"] else RunState.COMPLETED)
    log.info("simulation finished", **summary)
    return summary


def _simulate_days(target, start, end, seed, run_id, lease, runner, responses_dir) -> dict:
    """Advance the journey day by day, parents acting on the days they were drawn to; each day
    logs ``day simulated`` (a command's progress bar follows it)."""
    rules = rule_settings()
    waiting = pd.DataFrame(
        {column: pd.Series(dtype="str") for column in RESPONSE_COLUMNS}
    ).astype({"received": "datetime64[ns]"})
    applied, asked = set(), set()
    day, days, imported, failed = start, 0, 0, 0
    run_progress = RunProgress(start, end)
    while True:
        failed += len(advance_journey(day, run_id, lease, runner))
        run_progress.reached(day)
        days += 1
        with target.connect() as conn:
            selected = _newly(cases_given_liability_end(conn), applied)
            awaiting = _newly(cases_awaiting_choice(conn), asked)
        drawn = [parents.applications(selected, seed), parents.answers(awaiting, rules.choice_window_days, seed)]
        waiting = pd.concat([waiting, *(frame for frame in drawn if len(frame))], ignore_index=True)
        today = waiting[waiting["received"] == pd.Timestamp(day)]
        if len(today):
            path = responses_dir / f"responses-{day:%Y%m%d}.csv"
            today.assign(received=today["received"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
            imported += len(store_events(read_responses(path)).events)
        waiting = waiting[waiting["received"] > pd.Timestamp(day)]
        log.info("day simulated", day=day.isoformat(), days_done=(day - start).days, days=(end - start).days)
        if day >= end:
            break
        day = _next_day(target, day, end, waiting)
    return {"journey_days": days, "responses": imported, "failed_units": failed, "advanced_to": end.isoformat()}


def _next_day(target, day: date, end: date, waiting: pd.DataFrame) -> date:
    """The next day on which something is due or a parent acts (the end date at the latest);
    events just imported, waiting to be applied, make it the very next day."""
    with target.connect() as conn:
        due_now = due_work(conn, day)
        later = due_work(conn, end, after=day)
    candidates = [pd.Timestamp(end)]
    if len(due_now):
        candidates.append(pd.Timestamp(day + timedelta(days=1)))
    if len(later):
        candidates.append(later["due_on"].min())
    if len(waiting):
        candidates.append(waiting["received"].min())
    return min(candidates).date()
