"""The forecast flow: the rulebook over the cases not closed yet, under the current rule settings
and an alternative, side by side. It reads and never writes: not the journey, not quarantine.

The flow reads what the walk needs (the unselected snapshot, without ledgers), walks each
settings' tranches once, and hands batches of cases to tasks: a task re-reads its cases from the
legacy systems, validated as the journey re-reads them, runs both settings over them
(``transform.forecast``) and returns small figures that the flow adds up. A worker holds one
batch's ledger at a time, whatever the estate's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import reduce
from typing import Any

import pandas as pd
from prefect import flow, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner
from sqlalchemy import Engine

from csa_closure.db import engine_for
from csa_closure.logs import get_logger
from csa_closure.refusal import Refusal
from csa_closure.retry import retry_on_transient
from csa_closure.rules_file import alternative_rules
from csa_closure.service.journey import NO_DUPLICATES
from csa_closure.settings import RuleSettings, Settings, rule_settings
from extract.batches import CaseKeys, extract_date, read_batch
from extract.systems import system_of
from load.forecast import (
    case_keys,
    held_back_cases,
    journey_dates,
    open_journey_batches,
    open_outcomes,
    planned_selection_dates,
    selections_not_started,
)
from load.journey import unselected_snapshot
from load.migrate import require_current_schema
from load.report import one_snapshot
from transform.forecast import (
    SIDES,
    Comparison,
    Figures,
    OpenCases,
    SideForecast,
    cases_to_start,
    first_selection_date,
    forecast_cases,
    legacy_needed,
    no_started_cases,
    walk_tranches,
    walk_unselected,
)

log = get_logger("forecast")


@dataclass(frozen=True)
class ForecastBatch:
    """The cases one task forecasts: started ones by their journey batches, the others with how
    each side's walk starts them (``transform.forecast.cases_to_start`` rows)."""

    label: str
    journey_batches: tuple[str, ...]
    to_start: dict[str, pd.DataFrame]


def forecast_as_of(target: Engine, requested: date | None) -> date:
    """The forecast's date: the one asked for, else the date the journey has advanced to, else
    the snapshot's extract date. Refused before the journey's date (the forecast starts from
    the journey as it stands) and when nothing has been extracted."""
    require_current_schema(target)
    with target.connect() as conn:
        clock, extracted = journey_dates(conn)
    if extracted is None:
        raise Refusal("nothing to forecast: no case has been extracted; run 'csa-closure extract' first")
    if requested is not None and clock is not None and requested < clock:
        raise Refusal(f"--as-of {requested} is before {clock}, the date the journey has advanced to")
    return requested or clock or extracted


@dataclass(frozen=True)
class EstateSnapshot:
    """What the walk and the batches start from, read in one snapshot of the target."""

    unselected: pd.DataFrame
    selected_not_started: pd.DataFrame
    journey_batches: pd.DataFrame
    first_selection: pd.Timestamp
    held_back: int


def read_snapshot(target: Engine, as_of: date) -> EstateSnapshot:
    with one_snapshot(target) as conn:
        return EstateSnapshot(
            unselected=unselected_snapshot(conn),
            selected_not_started=selections_not_started(conn),
            journey_batches=open_journey_batches(conn),
            first_selection=first_selection_date(pd.Timestamp(as_of), planned_selection_dates(conn)),
            held_back=held_back_cases(conn),
        )


def read_open_cases(legacy: Engine, target: Engine, batch: ForecastBatch) -> OpenCases:
    """The batch's cases as the target holds them, and fresh from the legacy systems those the
    steps need. Broken records are left out (counted unreadable), never quarantined here."""
    with target.connect() as conn:
        outcomes, journeys = (
            open_outcomes(conn, batch.journey_batches) if batch.journey_batches else no_started_cases()
        )
        starting = pd.concat([frame["case_ref"] for frame in batch.to_start.values()]).unique()
        keys = case_keys(conn, sorted(set(starting) | set(outcomes["case_ref"])))
    needed = legacy_needed(list(batch.to_start.values()), outcomes, journeys)
    cases, ledgers = [], []
    for scheme, of_scheme in keys[keys["case_ref"].isin(needed)].groupby("scheme"):
        system = system_of(scheme)
        selector = CaseKeys(batch.label, tuple(of_scheme[system.snapshot_key_column].tolist()))
        fresh = read_batch(legacy, system, selector, NO_DUPLICATES, extract_date(legacy, system))
        cases.append(fresh.cases)
        ledgers.append(fresh.ledger)
    return OpenCases(
        schemes=keys.set_index("case_ref")["scheme"],
        cases=pd.concat(cases, ignore_index=True) if cases else pd.DataFrame(columns=["case_ref"]),
        ledger=pd.concat(ledgers, ignore_index=True) if ledgers else pd.DataFrame(columns=["case_ref"]),
        outcomes=outcomes,
        journeys=journeys,
    )


@task(
    name="forecast-batch", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=retry_on_transient,
    cache_policy=NO_CACHE,
)
def forecast_batch(batch: ForecastBatch, rules: dict[str, RuleSettings]) -> dict[str, Figures]:
    """Both sides' figures for one batch of cases."""
    settings = Settings()
    legacy, target = engine_for(settings.legacy_url, legacy=True), engine_for(settings.target_url)
    open_cases = read_open_cases(legacy, target, batch)
    figures = {side: forecast_cases(open_cases, batch.to_start[side], rules[side]) for side in SIDES}
    log.info("forecast batch done", batch=batch.label, cases=len(open_cases.schemes),
             read=len(open_cases.cases))
    return figures


def forecast_batches(
    to_start: dict[str, pd.DataFrame], journey_batches: pd.DataFrame, size: int
) -> list[ForecastBatch]:
    """Cases not started, in the current walk's order, ``size`` at a time (so a batch holds a
    few selection dates and each side starts them in few steps); then the started ones, whole
    journey batches at a time up to ``size`` cases."""
    order = to_start["current"].sort_values(["selected_on", "case_ref"], na_position="last")["case_ref"]
    batch_of = pd.Series(range(len(order)), index=order.to_numpy()) // size
    split = {
        side: [part.reset_index(drop=True) for _, part in frame.groupby(frame["case_ref"].map(batch_of))]
        for side, frame in to_start.items()
    }
    batches = [
        ForecastBatch(f"B{number + 1:03d}", (), {side: parts[number] for side, parts in split.items()})
        for number in range(len(split["current"]))
    ]
    no_cases = {side: frame.iloc[0:0] for side, frame in to_start.items()}
    filled = (journey_batches["cases"].cumsum() - 1) // size
    for group in filled.unique():
        ids = tuple(journey_batches.loc[filled == group, "batch_id"])
        batches.append(ForecastBatch(f"B{len(batches) + 1:03d}", ids, no_cases))
    return batches


@flow(name="forecast", flow_run_name="forecast-{as_of}", task_runner=ThreadPoolTaskRunner(max_workers=2))
def forecast(alternative: dict[str, Any], as_of: date) -> Comparison:
    """The cases not closed yet, forecast under the current rule settings and with
    ``alternative`` laid over them, side by side; published as the markdown artifact
    ``forecast``."""
    from csa_closure.render.forecast import render_markdown

    settings = Settings()
    target = engine_for(settings.target_url)
    as_of = forecast_as_of(target, as_of)
    current = rule_settings()
    rules = {"current": current, "alternative": alternative_rules(current, alternative, "the alternative settings")}
    snapshot = read_snapshot(target, as_of)
    unselected = snapshot.unselected
    walks = {side: walk_unselected(unselected, snapshot.first_selection, rules[side]) for side in SIDES}
    to_start = {
        side: cases_to_start(unselected["case_ref"], walks[side], snapshot.selected_not_started) for side in SIDES
    }
    batches = forecast_batches(to_start, snapshot.journey_batches, settings.extract_batch_size)
    first_selection, held_back = snapshot.first_selection, snapshot.held_back
    del snapshot, unselected  # the batches re-read what they need
    futures = [
        forecast_batch.with_options(task_run_name=f"forecast-{batch.label}").submit(batch, rules)
        for batch in batches
    ]
    figures = {side: reduce(Figures.plus, (f.result()[side] for f in futures), Figures.none()) for side in SIDES}
    comparison = Comparison(
        as_of=pd.Timestamp(as_of),
        first_selection=first_selection,
        held_back=held_back,
        current=SideForecast(current, walk_tranches(walks["current"], current), figures["current"]),
        alternative=SideForecast(
            rules["alternative"], walk_tranches(walks["alternative"], rules["alternative"]), figures["alternative"]
        ),
    )
    changed = sorted(k for k, v in rules["alternative"].model_dump().items() if current.model_dump()[k] != v)
    create_markdown_artifact(
        key="forecast",
        markdown=render_markdown(comparison),
        description=f"What-if forecast as of {as_of}: current settings against {', '.join(changed) or 'the same'}",
    )
    log.info("forecast done", as_of=as_of.isoformat(), batches=len(batches), changed=changed)
    return comparison
