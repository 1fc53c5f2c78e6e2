"""The deployments operations serve: schedules from the plan, typed forms for operators' events.

Built from ``build_deployments`` as ``csa-closure serve`` builds them, against a real
journey, and checked against ``prefect.yaml`` so ``prefect deploy`` offers the same ones.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import lock_held_by_another_run
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterParentFlowRunId
from prefect.client.schemas.sorting import FlowRunSort
from prefect.flows import load_flow_from_entrypoint
from prefect.settings import PREFECT_API_URL
from sqlalchemy import select

import flows.deployments
from csa_closure.db import engine_for
from flows.advance import advance
from flows.deployments import advance_daily, build_deployments
from flows.record import record_application, record_hold_resolution
from load.journey import tranche_schedule
from load.migrate import upgrade_target
from load.schema import operator_event, selection
from transform.events import CHOICE_NAMES, SERVICE_NAMES, USE_NAMES

START = date(2014, 7, 7)
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def selected(planned_target):
    """The plan with its first tranche selected on ``START``."""
    advance(START)
    return planned_target


@pytest.fixture
def migrated(target_url, monkeypatch):
    """An empty target brought up to date by ``init``, with nothing planned."""
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    engine = engine_for(target_url)
    upgrade_target(engine)
    return engine


def daily_run_scheduled_at(monkeypatch, when: datetime):
    """The daily flow, run as if the scheduler had started it for ``when``."""
    monkeypatch.setattr(flows.deployments.flow_run, "scheduled_start_time", when)
    return advance_daily(return_state=True)


def by_name(deployments) -> dict[str, object]:
    return {f"{deployment.flow_name}/{deployment.name}": deployment for deployment in deployments}


def properties(deployment) -> dict[str, dict]:
    return deployment._parameter_openapi_schema.model_dump()["properties"]


def subflow_runs(state) -> list:
    async def read():
        async with get_client() as client:
            parent = FlowRunFilterParentFlowRunId(any_=[state.state_details.flow_run_id])
            return await client.read_flow_runs(
                flow_run_filter=FlowRunFilter(parent_flow_run_id=parent), sort=FlowRunSort.START_TIME_ASC, limit=10
            )

    return asyncio.run(read())


def test_the_daily_run_advances_to_its_scheduled_day_in_london(backend, planned_target, monkeypatch):
    half_past_midnight_in_london = datetime(2014, 7, 6, 23, 30, tzinfo=UTC)
    daily = daily_run_scheduled_at(monkeypatch, half_past_midnight_in_london)
    assert daily.is_completed()
    [run] = subflow_runs(daily)
    assert (run.name, run.parameters) == (f"advance-{START}", {"as_of": START.isoformat()})
    with planned_target.connect() as conn:
        assert conn.execute(select(selection.c.selected_on).distinct()).scalars().all() == [START]


def test_a_daily_run_that_cannot_advance_fails_with_the_reason(backend, planned_target, monkeypatch):
    with lock_held_by_another_run(planned_target):
        daily = daily_run_scheduled_at(monkeypatch, datetime(2014, 7, 7, 5, tzinfo=UTC))
    assert daily.is_failed()
    assert daily.message.startswith(f"advance-{START}: ")
    assert daily.message.endswith("another run is working the journey; try again when it has finished")


def test_deployments_serve_the_daily_advance_and_the_unselected_selection_dates(backend, selected):
    target = selected
    deployments = by_name(build_deployments(target))
    assert set(deployments) == {
        "advance-daily/daily",
        "advance/tranche-schedule",
        "rerun-failed/operations",
        "record-application/operations",
        "record-new-application/operations",
        "record-choice/operations",
        "record-extension/operations",
        "record-hold-resolution/operations",
    }
    [daily] = deployments["advance-daily/daily"].schedules
    assert (daily.schedule.cron, daily.schedule.timezone) == ("0 6 * * *", "Europe/London")

    with target.connect() as conn:
        planned = tranche_schedule(conn)
    waiting = sorted(planned.loc[planned["selection_date"] > pd.Timestamp(START), "selection_date"].dt.date.unique())
    assert len(waiting) >= 2 and START not in waiting
    schedules = deployments["advance/tranche-schedule"].schedules
    assert [schedule.parameters for schedule in schedules] == [{"as_of": day.isoformat()} for day in waiting]
    first = schedules[0].schedule
    assert first.timezone == "Europe/London"
    assert first.rrule == f"DTSTART:{waiting[0]:%Y%m%d}T050000\nRRULE:FREQ=DAILY;COUNT=1"
    assert all(not deployment.schedules for name, deployment in deployments.items() if name.endswith("/operations"))


def test_record_deployments_offer_typed_forms(backend, migrated):
    deployments = by_name(build_deployments(migrated))
    choice = properties(deployments["record-choice/operations"])
    assert choice["choice"]["enum"] == list(CHOICE_NAMES)
    assert choice["received"].items() >= {"type": "string", "format": "date"}.items()
    assert choice["channel"]["default"] == "post"
    assert properties(deployments["record-application/operations"])["service"]["enum"] == list(SERVICE_NAMES)
    hold = properties(deployments["record-hold-resolution/operations"])
    assert hold["use"]["enum"] == list(USE_NAMES)
    assert hold["pwc_pence"]["anyOf"] == [{"type": "integer"}, {"type": "null"}]
    assert deployments["record-hold-resolution/operations"]._parameter_openapi_schema.required == [
        "case", "use", "reason", "by"
    ]
    assert set(properties(deployments["record-new-application/operations"])) == {"nrp", "pwc", "received"}
    assert properties(deployments["advance/tranche-schedule"])["as_of"]["format"] == "date"


def test_a_typed_record_flow_stores_an_accepted_event_and_fails_a_refused_one(backend, selected):
    target = selected
    with target.connect() as conn:
        case = conn.execute(select(selection.c.csa_case_ref).limit(1)).scalar_one()

    accepted = record_application(case, "direct-pay", START, return_state=True)
    assert accepted.is_completed()
    assert accepted.message == f"accepted: application for {case}; the next advance applies it"
    refused = record_hold_resolution(case, "ledger", "checked", "A Caseworker", return_state=True)
    assert refused.is_failed()
    assert refused.message == "refused: the case is not on hold"

    with target.connect() as conn:
        stored = conn.execute(select(operator_event.c.kind, operator_event.c.value, operator_event.c.status)).all()
    assert stored == [("APPLICATION", "DIRECT_PAY", "ACCEPTED")]


def test_nothing_planned_leaves_the_tranche_schedule_on_demand(backend, migrated):
    assert by_name(build_deployments(migrated))["advance/tranche-schedule"].schedules == []


def test_prefect_yaml_describes_the_served_deployments(backend, migrated):
    served = by_name(build_deployments(migrated))
    described = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]
    names = {}
    for deployment in described:
        assert deployment["work_pool"]["name"] == "csa-closure"
        flow = load_flow_from_entrypoint(str(REPO / deployment["entrypoint"]))
        names[f"{flow.name}/{deployment['name']}"] = deployment
    assert set(names) == set(served)
    [daily] = names["advance-daily/daily"]["schedules"]
    assert daily == {"cron": "0 6 * * *", "timezone": "Europe/London"}


def described_deployments() -> set[str]:
    """``flow/deployment`` of each deployment ``prefect.yaml`` describes."""
    described = yaml.safe_load((REPO / "prefect.yaml").read_text())["deployments"]
    return {
        f"{load_flow_from_entrypoint(str(REPO / d['entrypoint'])).name}/{d['name']}" for d in described
    }


def test_prefect_deploy_creates_every_deployment_and_prefect_deployment_ls_lists_them(prefect_harness):
    """As docs/operations.md says to deploy, against the session's server: the work pool first,
    then ``prefect deploy --all`` from the repository root."""
    environment = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "COLUMNS": "250"}

    def prefect(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(Path(sys.executable).with_name("prefect")), *args],
            cwd=REPO, env=environment, capture_output=True, text=True, timeout=600,
        )

    pool = prefect("work-pool", "create", "csa-closure", "--type", "process", "--overwrite")
    assert pool.returncode == 0, pool.stdout + pool.stderr
    deployed = prefect("--no-prompt", "deploy", "--all")
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    listed = prefect("deployment", "ls")
    assert listed.returncode == 0, listed.stdout + listed.stderr

    expected = described_deployments()
    assert len(expected) == 8
    assert expected <= set(re.findall(r"[\w-]+/[\w-]+", listed.stdout)), listed.stdout

    async def read():
        async with get_client() as client:
            flow_names = {flow.id: flow.name for flow in await client.read_flows()}
            return {f"{flow_names[d.flow_id]}/{d.name}": d for d in await client.read_deployments()}

    on_server = asyncio.run(read())
    assert expected <= set(on_server)
    assert {on_server[name].work_pool_name for name in expected} == {"csa-closure"}
