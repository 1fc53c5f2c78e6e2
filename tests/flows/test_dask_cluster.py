"""The same flows on a Dask cluster (issue 18): a scheduler and two workers, each a process of
its own as on machines of their own, run the extract's batches and the journey's units; on
PostgreSQL the outcome is the same, row for row, as the same estate's run on this machine.
A cluster with a SQLite database is refused; one that does not answer fails the command in one line.

The journey is kept short: one segment group (one tranche) in batches of 400 cases, so that
each pass has two units to share out.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dask
import pytest
from distributed import Client
from journey_tables import journey_state
from sqlalchemy import Engine, func, inspect, select

from csa_closure import local_server
from csa_closure.db import engine_for
from csa_closure.refusal import Refusal
from csa_closure.settings import Settings, rule_settings
from load.migrate import upgrade_target
from load.schema import batch_run, engine_run, extract_run, quarantine
from synthetic import generate_estate

RULES = {"CSA_RULE_SEGMENT_GROUPS": "[[1, 2, 3, 4, 5, 6]]", "CSA_RULE_BATCH_SIZE": "400"}
COMMANDS = (("extract",), ("plan", "--start", "2014-07-07"), ("advance", "--as-of", "2016-03-31"))
EXTRACT_BATCHES = 2
"""One batch a scheme: the estate is far below the extract's batch size."""
DASK = str(Path(sys.executable).parent / "dask")
WORKERS = ("worker-1", "worker-2")


class Cluster:
    """A scheduler and single-threaded workers on 127.0.0.1, on ports of their choosing, each a
    process started with this process's environment as it is now (the databases, the rule
    settings) and the Prefect server's address, so that their tasks report to it."""

    def __init__(self, folder: Path) -> None:
        self._folder = folder
        self._scheduler_file = folder / "scheduler.json"
        self._processes: list[subprocess.Popen] = []

    def start(self) -> None:
        from prefect.settings import PREFECT_API_URL

        env = os.environ | {"PREFECT_API_URL": PREFECT_API_URL.value(), "PREFECT_HOME": str(self._folder / "prefect")}
        common = ["--scheduler-file", str(self._scheduler_file), "--no-dashboard"]
        self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0"] + common, env)
        for name in WORKERS:  # the engine imported as a worker starts, not at its first task
            self._start(name, ["worker", "--name", name, "--nthreads", "1", "--no-nanny", "--host", "127.0.0.1",
                               "--preload", "flows.advance", "--local-directory", str(self._folder)] + common, env)

    def _start(self, name: str, arguments: list[str], env: dict[str, str]) -> None:
        with (self._folder / f"{name}.log").open("wb") as log:
            self._processes.append(subprocess.Popen([DASK, *arguments], env=env, stdout=log, stderr=subprocess.STDOUT))

    def address(self, timeout: float = 120) -> str:
        """The scheduler's address, once every worker has joined."""
        deadline = time.monotonic() + timeout
        while not self._scheduler_file.exists():
            assert time.monotonic() < deadline, self._logs()
            time.sleep(0.2)
        address = json.loads(self._scheduler_file.read_text())["address"]
        with Client(address, timeout=30) as client:
            try:
                client.wait_for_workers(len(WORKERS), timeout=max(deadline - time.monotonic(), 1))
            except TimeoutError:
                pytest.fail(self._logs())
        return address

    def tasks_executed(self, address: str) -> dict[str, int]:
        """How many tasks each worker has executed, by worker name."""
        with Client(address, timeout=30) as client:
            names = {worker: info["name"] for worker, info in client.scheduler_info()["workers"].items()}
            counts = client.run(lambda dask_worker: dask_worker.state.executed_count)
        return {names[worker]: count for worker, count in counts.items()}

    def stop(self) -> None:
        """The workers first: one that loses its scheduler before it is told to stop may hang."""
        for process in reversed(self._processes):
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _logs(self) -> str:
        return "\n".join(f"{log.name}: {log.read_text()[-2000:]}" for log in sorted(self._folder.glob("*.log")))


@pytest.fixture
def start_cluster(tmp_path) -> Iterator:
    started: list[Cluster] = []

    def start() -> Cluster:
        started.append(Cluster(tmp_path))
        started[-1].start()
        return started[-1]

    yield start
    for cluster in started:
        cluster.stop()


def completed_task_runs(flow_run_id: str, expected: int, settle_seconds: float = 30) -> int:
    """How many task runs of the flow run the Prefect server has as completed, once it has
    ``expected`` or at the deadline: it records them from their events, a moment later."""
    from prefect import get_client
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    deadline = time.monotonic() + settle_seconds
    with get_client(sync_client=True) as client:
        while True:
            of_run = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
            runs = client.read_task_runs(flow_run_filter=of_run, limit=200)
            completed = sum(1 for run in runs if run.state is not None and run.state.is_completed())
            if completed >= expected or time.monotonic() > deadline:
                return completed
            time.sleep(0.5)


def outcome(target: Engine) -> dict[str, list[tuple]]:
    """The target's contract tables, the journey's and the quarantine, without surrogate keys."""
    query = select(*[c for c in quarantine.c if c.name != "id"])
    with target.connect() as conn:
        quarantined = sorted(map(tuple, conn.execute(query).all()), key=repr)
    return journey_state(target) | {"quarantine": quarantined}


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_the_cluster_runs_the_batches_on_its_workers_to_the_same_outcome(
    database_url_factory, monkeypatch, prefect_harness, cli, start_cluster
):
    legacy_url = database_url_factory("legacy")
    on_cluster, here = database_url_factory("cluster"), database_url_factory("here")
    for name, value in (RULES | {"CSA_LEGACY_URL": legacy_url, "CSA_TARGET_URL": on_cluster}).items():
        monkeypatch.setenv(name, value)
    rule_settings.cache_clear()
    cluster = start_cluster()  # its workers start while the estate is written
    generate_estate(engine_for(legacy_url, legacy=True, writable=True), 800, seed=18)
    for url in (on_cluster, here):
        upgrade_target(engine_for(url))

    monkeypatch.setenv("CSA_DASK_ADDRESS", address := cluster.address())
    for command in COMMANDS:
        result = cli(*command)
        assert (result.exit_code, result.exception) == (0, None), result.stderr[-3000:]

    with engine_for(on_cluster).connect() as conn:
        units = conn.execute(select(func.count()).select_from(batch_run)).scalar_one()
        advance_run = conn.execute(select(engine_run.c.run_id).where(engine_run.c.command == "advance")).scalar_one()
    executed = cluster.tasks_executed(address)
    assert sorted(executed) == sorted(WORKERS)
    assert all(executed.values()), executed  # both workers took a share
    assert sum(executed.values()) == EXTRACT_BATCHES + units  # every batch and unit, nothing here
    assert completed_task_runs(advance_run, units) == units  # reported to the Prefect server

    monkeypatch.delenv("CSA_DASK_ADDRESS")
    monkeypatch.setenv("CSA_TARGET_URL", here)
    for command in COMMANDS:
        result = cli(*command)
        assert (result.exit_code, result.exception) == (0, None), result.stderr[-3000:]

    state = outcome(engine_for(on_cluster))
    assert units > 5 and len(state["closure_outcome"]) > 500 and state["quarantine"]
    assert state == outcome(engine_for(here))
    rule_settings.cache_clear()


def _target_rows(target: Engine) -> dict[str, int]:
    tables = inspect(target).get_table_names()
    with target.connect() as conn:
        return {table: conn.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar_one() for table in tables}


@pytest.mark.parametrize("command", [("extract",), ("advance", "--as-of", "2014-07-07")], ids=" ".join)
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_a_cluster_with_sqlite_is_refused_in_one_line_and_nothing_changes(
    legacy_engine, legacy_url, target_url, monkeypatch, cli, command
):
    generate_estate(legacy_engine, 50, seed=18)
    legacy_engine.dispose()
    upgrade_target(engine_for(target_url))
    legacy_file = Path(legacy_url.removeprefix("sqlite:///"))
    before = hashlib.sha256(legacy_file.read_bytes()).hexdigest(), _target_rows(engine_for(target_url))
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    monkeypatch.setenv("CSA_DASK_ADDRESS", "tcp://127.0.0.1:8786")

    result = cli(*command)

    assert result.exit_code == 2
    assert result.refused == (
        "refused: a Dask cluster (CSA_DASK_ADDRESS) needs PostgreSQL databases, but CSA_TARGET_URL is SQLite"
    )
    assert (hashlib.sha256(legacy_file.read_bytes()).hexdigest(), _target_rows(engine_for(target_url))) == before


def test_a_sqlite_legacy_database_is_refused_for_a_cluster_too():
    cluster = {"dask_address": "tcp://127.0.0.1:8786", "target_url": "postgresql://postgres@127.0.0.1/cms"}
    with pytest.raises(Refusal, match="but CSA_LEGACY_URL is SQLite"):
        Settings(**cluster, legacy_url="sqlite:///var/legacy.db")
    assert (
        Settings(**cluster, legacy_url="postgresql://postgres@127.0.0.1/legacy").dask_address == cluster["dask_address"]
    )


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_a_cluster_that_does_not_answer_fails_the_command_in_one_line_and_nothing_changes(
    legacy_engine, legacy_url, target_url, monkeypatch, cli, prefect_harness
):
    generate_estate(legacy_engine, 50, seed=18)
    target = engine_for(target_url)
    upgrade_target(target)
    before = _target_rows(target)
    monkeypatch.setenv("CSA_LEGACY_URL", legacy_url)
    monkeypatch.setenv("CSA_TARGET_URL", target_url)
    monkeypatch.setenv("CSA_DASK_ADDRESS", f"tcp://127.0.0.1:{local_server.free_port()}")  # nothing listens

    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        result = cli("extract")

    assert (result.exit_code, result.exception) == (1, None)
    assert result.stderr.splitlines()[-1].startswith(
        "failed: the Dask cluster (CSA_DASK_ADDRESS) does not answer: Timed out trying to connect to tcp://127.0.0.1:"
    )
    after = _target_rows(target)
    assert after | {"extract_run": 0} == before  # no case extracted, no record quarantined
    with target.connect() as conn:  # the runs that began are recorded as not finished
        assert conn.execute(select(extract_run.c.finished_at)).scalars().all() == [None] * after["extract_run"]
