"""Shared fixtures: real databases, SQLite and PostgreSQL, created and dropped per test.

PostgreSQL databases are created on the local server (``CSA_TEST_PG_URL``, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres`` for the admin connection) under
unique names and dropped afterwards; the shared ``test`` and ``postgres`` databases hold no data.
"""

from __future__ import annotations

import fcntl
import json
import os
import pickle

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "csa_closure")
import re
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text

from csa_closure.db import engine_for, make_engine

# Timing is for bench/: on a busy machine an example may take longer than hypothesis' deadline.
settings.register_profile("csa", deadline=None)
settings.load_profile("csa")

PG_ADMIN_URL = os.environ.get(
    "CSA_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin() -> Engine:
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def create_database_url(backend: str, tmp_path: Path, name: str) -> str:
    """A fresh, empty database of ``backend``: a SQLite file, or a new PostgreSQL database."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / (name + '.db')}"
    db_name = f"csa_test_{name}_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db_name}"'))
    admin.dispose()
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db_name}"


def copy_database(template: str, url: str) -> None:
    """Make the database at ``url`` hold what ``template`` holds: a file copy for SQLite,
    ``CREATE DATABASE ... TEMPLATE`` for PostgreSQL (``url``'s database is replaced)."""
    engine_for(template).dispose()
    engine_for(url).dispose()
    if url.startswith("sqlite"):
        source = template.removeprefix("sqlite:///")
        with closing(sqlite3.connect(source)) as conn:  # a WAL folded into the file, the mode kept
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copyfile(source, url.removeprefix("sqlite:///"))
        return
    source, database = template.rsplit("/", 1)[1], url.rsplit("/", 1)[1]
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                     {"name": source})
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}" TEMPLATE "{source}"'))
    admin.dispose()


def drop_database_url(url: str) -> None:
    if not url.startswith("postgresql"):
        return
    db_name = url.rsplit("/", 1)[1]
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)'))
    admin.dispose()


_BACKEND_PARAMETER = re.compile(r"\[(?:[^\]]*-)?(sqlite|postgres)(?:-[^\]]*)?\]$")


def pytest_collection_modifyitems(items) -> None:
    """A test that needs a Prefect server (a flow run, the command line) is ``slow``, as are
    the property tests that mark themselves so: ``./dev test --fast`` leaves them out. The
    files with slow tests go first, so the workers end the run on short ones, together."""
    for item in items:
        if "prefect_harness" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


def pytest_xdist_make_scheduler(config, log):
    """With ``--dist loadscope`` (``./dev test``) a scope is a test file on one backend: its
    tests share the file's module fixtures (a journey run once per backend) on one worker,
    while its SQLite and PostgreSQL halves can run side by side. (``loadgroup`` would say
    this with marks, but xdist 3.8 cannot rename pytest 9's node ids, which it relies on.)"""
    if config.getvalue("dist") != "loadscope":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FileAndBackendScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            backend = _BACKEND_PARAMETER.search(nodeid)
            file = nodeid.split("::")[0]
            return f"{file}:{backend.group(1)}" if backend else file

    return FileAndBackendScheduling(config, log)


BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
"""The backends a test runs on; a file whose tests share a module fixture (one run read by
many tests) scopes its own ``backend`` fixture to the module with these."""


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """Each test using this runs once on SQLite and once on PostgreSQL."""
    return request.param


@pytest.fixture
def database_url_factory(backend: str, tmp_path: Path) -> Iterator:
    """Makes fresh databases of the current backend; drops them all at the end of the test."""
    made: list[str] = []

    def factory(name: str) -> str:
        url = create_database_url(backend, tmp_path, name)
        made.append(url)
        return url

    yield factory
    for url in made:
        drop_database_url(url)


@pytest.fixture
def legacy_url(database_url_factory) -> str:
    return database_url_factory("legacy")


@pytest.fixture
def target_url(database_url_factory) -> str:
    return database_url_factory("target")


@pytest.fixture
def legacy_engine(legacy_url: str) -> Iterator[Engine]:
    engine = make_engine(legacy_url, legacy=True, writable=True)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def prefect_harness():
    """One Prefect test server for the whole session (it takes ~15 s to start).

    Flow-run heartbeats (the server's watch for crashed runs, which no test exercises) are off:
    each run's end would wait for the heartbeat thread's one-second sleep.
    """
    from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120), temporary_settings(
        updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
    ):
        yield


PLANNED_SETTINGS = {"CSA_RULE_TRANCHE_CAPACITY": "200", "CSA_RULE_BATCH_SIZE": "25"}


T = TypeVar("T")


def built_once(tmp_path_factory, name: str, build: Callable[[Path], T], databases: Callable[[T], list[str]]) -> T:
    """What ``build(folder)`` returns, built by the first process of this run that asks (an xdist
    worker, or pytest alone) and read by the others; ``databases`` names what it made, which
    ``pytest_sessionfinish`` drops once every worker is done. A build takes a Prefect flow run or
    two, so building it once per run rather than once per worker is most of a minute."""
    root = _run_folder(tmp_path_factory)
    record = root / f"{name}.pickle"
    with open(root / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released as the file closes
        if not record.exists():
            folder = root / name
            folder.mkdir()
            value = build(folder)
            (root / f"{name}.databases.json").write_text(json.dumps(databases(value)))
            record.write_bytes(pickle.dumps(value))
    return pickle.loads(record.read_bytes())


def _run_folder(tmp_path_factory) -> Path:
    """The folder this run's processes share: an xdist worker's temporary folder is inside it."""
    basetemp = tmp_path_factory.getbasetemp()
    return basetemp.parent if os.environ.get("PYTEST_XDIST_WORKER") else basetemp


def pytest_sessionfinish(session) -> None:
    """The run's shared builds are dropped by the process that started the workers, after them."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        return
    for made in _run_folder(session.config._tmp_path_factory).glob("*.databases.json"):
        for url in json.loads(made.read_text()):
            drop_database_url(url)


@pytest.fixture(scope="session")
def planned_estates(tmp_path_factory, prefect_harness) -> Callable[[str], tuple[str, str]]:
    """The planned estate of each backend (legacy and target), built once per run on first use;
    tests get copies."""

    def of(backend: str) -> tuple[str, str]:
        return built_once(tmp_path_factory, f"planned-{backend}", lambda folder: _build_planned_estate(backend, folder),
                          databases=list)

    return of


@pytest.fixture(scope="session")
def fault_worlds(tmp_path_factory, prefect_harness) -> Iterator[Callable[[str], object]]:
    """The fault tests' world of each backend (``tests/faults/fault_world.py``), built once per
    run on first use, so that the fault tests can be spread over several files and workers."""
    from fault_world import build_world, world_databases

    used = []

    def of(backend: str):
        world = built_once(tmp_path_factory, f"faults-{backend}", lambda folder: build_world(backend, folder),
                           databases=world_databases)
        used.append(world)
        return world

    yield of
    for world in used:
        for url in world.made:  # this worker's copies
            drop_database_url(url)


def _build_planned_estate(backend: str, folder: Path) -> tuple[str, str]:
    from csa_closure.settings import rule_settings
    from flows.extraction import extract_legacy
    from flows.plan import plan
    from load.migrate import upgrade_target
    from synthetic import generate_estate

    legacy, target = create_database_url(backend, folder, "legacy"), create_database_url(backend, folder, "target")
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {"CSA_LEGACY_URL": legacy, "CSA_TARGET_URL": target, **PLANNED_SETTINGS}.items():
            patch.setenv(name, value)
        rule_settings.cache_clear()
        generate_estate(engine_for(legacy, legacy=True, writable=True), 500, seed=21)
        upgrade_target(engine_for(target))
        extract_legacy()
        plan(date(2014, 7, 7))
    rule_settings.cache_clear()
    return legacy, target


@pytest.fixture
def planned_target(backend, legacy_url, target_url, monkeypatch, planned_estates):
    """A small estate extracted and planned from 2014-07-07 (weekly tranches of up to 200
    cases, batches of 25), copied into this test's legacy and target databases."""
    from csa_closure.settings import rule_settings

    legacy, target = planned_estates(backend)
    copy_database(legacy, legacy_url)
    copy_database(target, target_url)
    for name, value in {"CSA_LEGACY_URL": legacy_url, "CSA_TARGET_URL": target_url, **PLANNED_SETTINGS}.items():
        monkeypatch.setenv(name, value)
    rule_settings.cache_clear()
    yield engine_for(target_url)
    rule_settings.cache_clear()


@contextmanager
def lock_held_by_another_run(target: Engine) -> Iterator[None]:
    """The journey lock, held by another run for the block: from a thread of its own, as the
    lock is shared by the flows of one run (its context)."""
    from csa_closure.locks import journey_lock

    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with journey_lock(target, "another run"):
            taken.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(30), "the other run could not take the lock"
    try:
        yield
    finally:
        release.set()
        holder.join()


CSA_CLOSURE = str(Path(sys.executable).with_name("csa-closure"))
"""The console script, as operations run it."""


def in_a_process(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess:
    """``csa-closure ARGS`` in a process of its own, as an operator runs it, with ``env`` for its
    whole environment; for what only a real process shows (its output streams, its exit, its
    server), where the ``cli`` fixture runs the command in this one."""
    return subprocess.run([CSA_CLOSURE, *args], env=dict(env), capture_output=True, text=True, timeout=600)


@dataclass(frozen=True)
class CommandRun:
    """What one ``csa-closure`` command did: its exit code, stdout, stderr, and an exception it
    raised that is not a refusal (a refusal is ``refused: <why>`` on stderr and exit 2)."""

    exit_code: int
    stdout: str
    stderr: str
    exception: BaseException | None

    @property
    def refused(self) -> str:
        """The ``refused:`` lines of stderr."""
        return "\n".join(line for line in self.stderr.splitlines() if line.startswith("refused:"))


@pytest.fixture(scope="session")
def cli() -> Callable[..., CommandRun]:
    """Runs ``csa-closure`` in this process with typer's runner: ``cli("record", "choice", ...)``.
    Tables print 250 columns wide, one row a line."""
    from typer.testing import CliRunner

    from csa_closure.cli import app
    from csa_closure.cli.common import console

    console.width = 250

    def run(*args: str) -> CommandRun:
        result = CliRunner().invoke(app, list(args))
        exception = None if isinstance(result.exception, SystemExit) else result.exception
        return CommandRun(result.exit_code, result.stdout, result.stderr, exception)

    return run
