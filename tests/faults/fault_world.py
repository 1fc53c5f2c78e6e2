"""The world the fault tests interrupt: a compressed journey on a small generated estate.

A legacy estate (read-only to the engine, so every test shares it) and three targets are built
once per test run and backend (``fault_worlds`` in ``tests/conftest.py``), then copied for each
test: ``migrated`` (empty), ``planned`` (extracted and planned) and ``advanced`` (taken to
``AS_OF`` without a fault).
``reference`` is what the uninterrupted journey leaves; every interrupted run, once run again to
completion, must leave exactly that, with ``invariant_breaks`` empty.

Liability runs a month and answers are due in a week, so a month of journey holds every kind of
unit of work: selections, starts, reminders, liability ends with decisions and CMS loads, and a
deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from conftest import BACKENDS, copy_database, create_database_url
from journey_tables import journey_state
from prefect import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId, FlowRunFilterParentFlowRunId
from prefect.client.schemas.objects import StateType
from prefect.settings import PREFECT_API_URL
from sqlalchemy import Engine, func, select

from csa_closure.db import engine_for
from csa_closure.locks import JOURNEY_LEASE
from csa_closure.settings import rule_settings
from load.migrate import upgrade_target
from load.schema import (
    closure_outcome,
    cms_case,
    cms_unpaid_maintenance,
    engine_run,
    journey_event,
    journey_lease,
    letter,
    operator_event,
    write_off,
)
from synthetic import generate_estate
from transform.codes import RunState

START, AS_OF = date(2014, 7, 7), date(2014, 8, 15)
SETTINGS = {
    "CSA_RULE_LIABILITY_NOTICE_MONTHS": "1",
    "CSA_RULE_REMINDER_MONTHS_BEFORE_END": "0",
    "CSA_RULE_CHOICE_WINDOW_DAYS": "7",
    "CSA_RULE_EXTENSION_DAYS": "7",
    "CSA_RULE_BATCH_SIZE": "80",
    "CSA_RULE_TRANCHE_CAPACITY": "150",
}
CASES, SEED = 600, 8
INTERRUPT = Path(__file__).with_name("interrupt.py")


@dataclass
class FaultWorld:
    backend: str
    folder: Path
    legacy_url: str
    migrated: str
    planned: str
    advanced: str
    reference: dict[str, list[tuple]]
    made: list[str]

    def copy(self, template: str, name: str) -> str:
        """A new target holding what ``template`` holds (named for this process: the world's
        folder is shared by the test run's workers)."""
        url = create_database_url(self.backend, self.folder, f"{name}-{os.getpid()}-{len(self.made)}")
        copy_database(template, url)
        self.made.append(url)
        return url


def build_world(backend: str, folder: Path) -> FaultWorld:
    """Generate the legacy estate and build the three targets; the settings are the world's
    only while it is built (``target_of`` sets them for each test)."""
    from flows.advance import advance
    from flows.plan import plan

    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in SETTINGS.items():
            monkeypatch.setenv(name, value)
        rule_settings.cache_clear()
        legacy_url = create_database_url(backend, folder, "legacy")
        generate_estate(engine_for(legacy_url, legacy=True, writable=True), CASES, seed=SEED)
        monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
        urls = {}
        for name in ("migrated", "planned", "advanced"):
            urls[name] = create_database_url(backend, folder, name)
            monkeypatch.setenv("CSA_TARGET_URL", urls[name])
            upgrade_target(engine_for(urls[name]))
            if name != "migrated":
                plan(START)
            if name == "advanced":
                advance(AS_OF)
    rule_settings.cache_clear()
    return FaultWorld(backend, folder, legacy_url, urls["migrated"], urls["planned"], urls["advanced"],
                      journey_state(engine_for(urls["advanced"])), [])


def world_databases(world: FaultWorld) -> list[str]:
    return [world.migrated, world.planned, world.advanced, world.legacy_url]


@pytest.fixture(scope="module")
def world(backend, fault_worlds) -> FaultWorld:
    """The backend's world, shared by every fault test of the run (``fault_worlds``)."""
    return fault_worlds(backend)


@pytest.fixture
def target_of(world, monkeypatch):
    """Copies a template of the world into a new target that the engine's flows use."""
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CSA_LEGACY_URL", world.legacy_url)
    rule_settings.cache_clear()

    def target(template: str, name: str) -> str:
        url = world.copy(template, name)
        monkeypatch.setenv("CSA_TARGET_URL", url)
        return url

    yield target
    rule_settings.cache_clear()


def accepted(run) -> None:
    """A command run by the ``cli`` fixture that must succeed."""
    assert run.exit_code == 0, (run.stdout, run.stderr, repr(run.exception))


def awaiting_choice(target: Engine, on_or_after: date) -> list[tuple[str, date, str]]:
    """Cases awaiting an answer with a deadline on or after a day: (case, deadline, batch)."""
    with target.connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                select(closure_outcome.c.csa_case_ref, closure_outcome.c.choice_deadline, closure_outcome.c.batch_id)
                .where(
                    closure_outcome.c.journey_state == "AWAITING_CHOICE",
                    closure_outcome.c.choice_deadline >= on_or_after,
                )
                .order_by(closure_outcome.c.choice_deadline, closure_outcome.c.batch_id, closure_outcome.c.csa_case_ref)
            )
        ]


def run_interrupted(target_url: str, world: FaultWorld, point: str, *command: str, nth: int = 1,
                    case: str | None = None, action: str = "kill", folder: Path | None = None,
                    wait: bool = True) -> subprocess.Popen:
    """``csa-closure COMMAND`` in a process of its own, interrupted at ``point``. A killed run is
    waited for; a paused one is returned once it stands at the point (``released`` goes on)."""
    folder = folder or world.folder
    env = os.environ | SETTINGS | {
        "CSA_LEGACY_URL": world.legacy_url,
        "CSA_TARGET_URL": target_url,
        "PREFECT_API_URL": PREFECT_API_URL.value(),  # the session's server outlives the run
        "CSA_FAULT_PAUSED": str(folder / "paused"),
        "CSA_FAULT_RELEASE": str(folder / "release"),
    }
    for marker in ("paused", "release"):
        (folder / marker).unlink(missing_ok=True)
    arguments = [sys.executable, str(INTERRUPT), "--at", point, "--nth", str(nth), "--do", action]
    if case:
        arguments += ["--case", case]
    process = subprocess.Popen([*arguments, "--", *command], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    if action == "kill":
        process.wait(timeout=300)
        assert process.returncode == -9, f"not killed at {point}: {process.returncode} {process.stderr.read()}"
        return process
    deadline = time.monotonic() + 300
    while not (folder / "paused").exists():
        assert process.poll() is None, f"ended before {point}: {process.stderr.read()}"
        assert time.monotonic() < deadline, f"never reached {point}"
        time.sleep(0.1)
    return process


def released(process: subprocess.Popen, folder: Path) -> tuple[int, str]:
    """Let a paused run go on; its exit code and what it wrote on stderr."""
    (folder / "release").touch()
    _, stderr = process.communicate(timeout=300)
    return process.returncode, stderr


def invariant_breaks(target: Engine) -> list[str]:
    """What no fault may leave behind, read straight from the contract tables: every penny of
    each case accounted for; no duplicate audit, write-off, CMS or letter row."""
    o = closure_outcome.c
    breaks = []
    with target.connect() as conn:
        for row in conn.execute(select(closure_outcome)).mappings():
            accounted = sum(row[c] for c in ("transferred_pence", "written_off_pence", "pending_pence",
                                             "on_hold_pence"))
            arrears = (row["arrears_pwc_pence"] or 0) + (row["arrears_sos_pence"] or 0) + row["on_hold_pence"]
            if accounted != arrears:
                breaks.append(f"{row['csa_case_ref']}: arrears {arrears} but {accounted} accounted for")
        written = dict(
            conn.execute(
                select(write_off.c.csa_case_ref, func.sum(write_off.c.amount_pence)).group_by(write_off.c.csa_case_ref)
            ).all()
        )
        moved = dict(
            conn.execute(
                select(cms_case.c.csa_case_ref, func.sum(cms_unpaid_maintenance.c.amount_pence))
                .select_from(cms_unpaid_maintenance.join(cms_case))
                .group_by(cms_case.c.csa_case_ref)
            ).all()
        )
        for ref, written_off, transferred in conn.execute(
            select(o.csa_case_ref, o.written_off_pence, o.transferred_pence)
        ):
            if int(written.get(ref, 0)) != written_off or int(moved.get(ref, 0)) != transferred:
                breaks.append(f"{ref}: outcome and write-off or CMS tables disagree")
        for table, key in (
            (journey_event, ["csa_case_ref", "from_state", "to_state", "effective_date", "cause"]),
            (letter, ["csa_case_ref", "journey_event", "template", "recipient_role"]),
            (operator_event, ["kind", "csa_case_ref", "nrp_ref", "received_on", "status"]),
        ):
            columns = [table.c[c] for c in key]
            repeated = conn.execute(select(*columns).group_by(*columns).having(func.count() > 1)).all()
            breaks += [f"{table.name} row twice: {tuple(r)}" for r in repeated]
    return breaks


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request) -> str:
    """The module's backend: its tests share one world per backend."""
    return request.param


def runs_in(target: Engine, state: RunState) -> list[str]:
    with target.connect() as conn:
        return list(conn.execute(select(engine_run.c.run_id).where(engine_run.c.state == state)).scalars())


def lock_holder(target: Engine, lease_id: int = JOURNEY_LEASE) -> str:
    """The flow run that took the journey lock (or another) last."""
    with target.connect() as conn:
        return conn.execute(select(journey_lease.c.run_id).where(journey_lease.c.lease_id == lease_id)).scalar_one()


def runs_to_check(target: Engine, lease_id: int = JOURNEY_LEASE) -> str | None:
    """The earlier holders the lock's lease passes on to its next holder (JSON), if any."""
    with target.connect() as conn:
        return conn.execute(
            select(journey_lease.c.runs_to_check).where(journey_lease.c.lease_id == lease_id)
        ).scalar_one()


def flow_run_state(run_id: str) -> StateType:
    """The run's state as the dashboard shows it."""
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id).state.type


def subflows_of(run_id: str) -> list[str]:
    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_run_filter=FlowRunFilter(parent_flow_run_id=FlowRunFilterParentFlowRunId(any_=[run_id]))
        )
    return [str(run.id) for run in runs]


def task_run_states(run_id: str) -> list[StateType]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])))
    return sorted(run.state.type for run in runs if run.state)
