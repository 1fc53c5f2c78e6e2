"""The deployments operations run from the dashboard, served by ``csa-closure serve``.

- ``advance-daily/daily``: every morning at 06:00 London time, advance to that day.
- ``advance/tranche-schedule``: one run at 05:00 on each planned selection date not selected
  yet, with ``as_of`` that date, so the dashboard shows the tranche schedule as upcoming runs.
  The dates are read from the target when serving starts: serve again after ``plan``.
- ``rerun-failed/operations`` and ``record-<event>/operations``: run on demand; the record
  deployments have typed parameters, so the dashboard offers a form for each event.

Runs execute in the serving process's environment (``CSA_TARGET_URL`` and the rest).
``prefect.yaml`` describes the same deployments for ``prefect deploy`` to a work pool.
"""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from prefect import flow, serve
from prefect.deployments.runner import RunnerDeployment
from prefect.runtime import flow_run
from prefect.schedules import Cron, RRule, Schedule
from prefect.states import Failed, State
from sqlalchemy import Engine

from csa_closure.db import engine_for
from csa_closure.settings import Settings
from flows.advance import advance, rerun_failed
from flows.record import (
    record_application,
    record_choice,
    record_extension,
    record_hold_resolution,
    record_new_application,
)
from load.journey import tranche_schedule
from load.migrate import require_current_schema
from transform.codes import TrancheKind

TIMEZONE = "Europe/London"
DAILY_CRON = "0 6 * * *"
SELECTION_HOUR = 5
"""Tranche runs start an hour before the daily run: the journey lock lets one run at a time."""

ON_DEMAND = "operations"
RECORD_FLOWS = (
    record_application,
    record_new_application,
    record_choice,
    record_extension,
    record_hold_resolution,
)


@flow(name="advance-daily")
def advance_daily() -> dict | State:
    """Advance to the day this run was scheduled for, in London: a late or retried run still
    stops at its own day, and the next day's run catches up the rest. A failed advance fails
    this run with its reason, so the daily run's row on the dashboard says why."""
    scheduled = flow_run.scheduled_start_time.astimezone(ZoneInfo(TIMEZONE)).date()
    state = advance(scheduled, return_state=True)
    if state.is_completed():
        return state.result()
    return Failed(message=f"advance-{scheduled}: {state.message}")


def selection_schedules(target: Engine) -> list[Schedule]:
    """One single-run schedule per planned selection date not selected yet, with that as-of."""
    require_current_schema(target)
    with target.connect() as conn:
        schedule = tranche_schedule(conn)
    waiting = schedule[(schedule["kind"] == TrancheKind.PLANNED) & schedule["selected_cases"].isna()]
    return [selection_schedule(day.date()) for day in sorted(set(waiting["selection_date"]))]


def selection_schedule(day: date) -> Schedule:
    """A schedule that fires once, on ``day`` at ``SELECTION_HOUR`` London time."""
    return RRule(
        f"DTSTART:{day:%Y%m%d}T{SELECTION_HOUR:02d}0000\nRRULE:FREQ=DAILY;COUNT=1",
        timezone=TIMEZONE,
        parameters={"as_of": day.isoformat()},
        slug=f"select-{day:%Y%m%d}",
    )


def build_deployments(target: Engine) -> list[RunnerDeployment]:
    """Every deployment ``csa-closure serve`` serves, for the journey in ``target``."""
    return [
        advance_daily.to_deployment("daily", schedules=[Cron(DAILY_CRON, timezone=TIMEZONE)]),
        advance.to_deployment("tranche-schedule", schedules=selection_schedules(target)),
        rerun_failed.to_deployment(ON_DEMAND),
        *(record.to_deployment(ON_DEMAND) for record in RECORD_FLOWS),
    ]


def serve_deployments() -> None:
    """Serve every deployment until interrupted; a target that needs ``init`` is refused."""
    serve(*build_deployments(engine_for(Settings().target_url)))
