"""Loading that nothing can half-do: a corrupted batch fails alone; a killed run reruns clean."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest
from prefect.settings import PREFECT_API_URL
from sqlalchemy import func, select, text

import flows.steps
from csa_closure.db import engine_for
from csa_closure.settings import rule_settings
from flows.advance import advance
from flows.extraction import extract_legacy
from flows.plan import plan
from journey_tables import journey_state
from load.migrate import upgrade_target
from load.reconcile import money_totals
from load.schema import batch_run, closure_outcome, write_off
from synthetic import generate_estate

START = date(2014, 7, 7)
END = date(2014, 9, 15)
SETTINGS = {
    "CSA_RULE_LIABILITY_NOTICE_MONTHS": "1",
    "CSA_RULE_REMINDER_MONTHS_BEFORE_END": "0",
    "CSA_RULE_CHOICE_WINDOW_DAYS": "7",
    "CSA_RULE_EXTENSION_DAYS": "7",
    "CSA_RULE_BATCH_SIZE": "80",
}


@pytest.fixture
def planned(database_url_factory, monkeypatch, prefect_harness):
    """Targets planned over one generated legacy estate (arrears-only cases are decided on
    selection, so the last tranche loads the CMS in its first step)."""
    legacy_url = database_url_factory("legacy")
    for name, value in SETTINGS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    rule_settings.cache_clear()
    generate_estate(engine_for(legacy_url, legacy=True, writable=True), 600, seed=8)

    def target(name: str) -> str:
        url = database_url_factory(name)
        monkeypatch.setenv("CSA_TARGET_URL", url)
        upgrade_target(engine_for(url))
        extract_legacy()
        plan(START)
        return url

    yield target
    rule_settings.cache_clear()


@pytest.mark.parametrize("backend", ["sqlite"])
def test_a_batch_corrupted_before_its_commit_fails_alone_and_loads_nothing(planned, monkeypatch):
    """On SQLite, the embedded default (the kill test below loads PostgreSQL)."""
    target = engine_for(planned("corrupted"))
    victim = {}
    write = flows.steps.write_changes

    def write_then_corrupt(conn, changes, *args, **kwargs):
        """Write as usual, then add a penny to one write-off of the first deciding batch."""
        write(conn, changes, *args, **kwargs)
        if not victim and len(changes.write_offs):
            case_ref = changes.write_offs["case_ref"].iloc[0]
            victim.update(case_ref=case_ref, batch_id=changes.outcomes.set_index("case_ref").at[case_ref, "batch_id"])
            conn.execute(
                write_off.update().where(write_off.c.csa_case_ref == case_ref).values(
                    amount_pence=write_off.c.amount_pence + 1
                )
            )

    monkeypatch.setattr(flows.steps, "write_changes", write_then_corrupt)
    state = advance(END, return_state=True)
    assert state.is_failed()
    with target.connect() as conn:
        runs = conn.execute(select(batch_run.c.batch_id, batch_run.c.state, batch_run.c.last_error)).all()
        failed = [(batch, error) for batch, run_state, error in runs if run_state == "FAILED"]
        assert [batch for batch, _ in failed] == [victim["batch_id"]]
        assert f"case {victim['case_ref']}" in failed[0][1] and "reconciliation" in failed[0][1]
        assert sum(1 for _, run_state, _ in runs if run_state == "COMPLETED") > 10
        of_victim = conn.execute(
            select(func.count()).select_from(closure_outcome).where(closure_outcome.c.batch_id == victim["batch_id"])
        ).scalar_one()
        assert of_victim == 0  # its start was rolled back whole: nothing of it loaded
        totals = money_totals(conn)
    assert len(totals) and (totals["difference"] == 0).all()  # what did load reconciles


@pytest.mark.parametrize("backend", [pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_run_killed_in_the_middle_of_a_batch_reruns_to_the_uninterrupted_state(planned, tmp_path):
    """On PostgreSQL, the production target (SQLite's atomic commit is SQLite's own promise)."""
    uninterrupted = planned("uninterrupted")
    advance(END)
    expected = journey_state(engine_for(uninterrupted))

    killed = planned("killed")
    # The run reports to the session's Prefect server, which outlives it, as in production.
    env = os.environ | {"CSA_TARGET_URL": killed, "PREFECT_API_URL": PREFECT_API_URL.value(),
                        "PREFECT_HOME": str(tmp_path / "prefect")}
    command = [sys.executable, "-m", "csa_closure.cli", "advance", "--as-of", END.isoformat()]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    target = engine_for(killed)
    deadline = time.monotonic() + 240
    completed = 0
    while completed < 4 and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        with target.connect() as conn:
            completed = conn.execute(
                select(func.count()).select_from(batch_run).where(batch_run.c.state == "COMPLETED")
            ).scalar_one()
    assert process.poll() is None, "the run finished before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)  # the run and any worker of it die at once
    process.wait()
    with target.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM batch_run")).scalar_one() >= 4
    assert journey_state(target) != expected  # it really was interrupted

    advance(END)
    assert journey_state(target) == expected
