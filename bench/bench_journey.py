"""The whole journey as operations run it, timed step by step against its floor.

    python bench/bench_journey.py [--cases 100000 1200000] [--backend sqlite postgres]
                                  [--until 2016-03-31] [--answers] [--legacy URL]

An estate is generated (not timed; ``--legacy`` names one generated before, to reuse), then the real
``csa-closure`` commands run one after the
other, each in a process of its own, all reporting to one Prefect server: ``extract``,
``plan --start 2014-07-07``, ``advance --as-of UNTIL`` (with ``--answers``: the journey advanced
week by week with simulated parents' answers imported as operations would), ``report``. For each
step: wall time, cases per second, and the peak memory of the command's process tree (Prefect's
server aside). Then the target's size on disk, and, on PostgreSQL, **the floor**: ``COPY ... TO``
of every legacy row the journey reads plus ``COPY ... FROM`` of every target row it wrote (into
an empty copy of the schema, foreign-key triggers off), measured on the same estate in the same
run; the journey's time is given as a multiple of it.
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from bench_extract import _rss_kb, _tree  # noqa: E402
from bench_generate import legacy_database  # noqa: E402
from sqlalchemy import text  # noqa: E402

from csa_closure.db import make_engine  # noqa: E402
from extract.legacy_schema import legacy_metadata  # noqa: E402
from load.migrate import upgrade_target  # noqa: E402
from load.schema import (  # noqa: E402
    closure_outcome,
    cms_arrears_instalment,
    cms_case,
    cms_unpaid_maintenance,
    letter,
    quarantine,
    target_metadata,
    write_off,
)
from synthetic import generate_estate  # noqa: E402

START = date(2014, 7, 7)
QUIET = {"PREFECT_LOGGING_LEVEL": "WARNING", "CSA_LOG_LEVEL": "WARNING", "CSA_LOG_FORMAT": "json"}


class CommandMemory:
    """Samples a command's process tree (Prefect's server aside) every 0.2 s; ``peak_mb``."""

    def __init__(self, pid: int) -> None:
        self.pid, self.peak_mb = pid, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, sum(_rss_kb(pid) for pid in _tree(self.pid)) / 1024)


def run_command(env: dict, *args: str) -> tuple[float, float, int]:
    """``csa-closure ARGS``: its wall seconds, peak MB and exit code."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("csa-closure")), *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    memory = CommandMemory(process.pid)
    _, stderr = process.communicate()
    memory.stop()
    seconds = time.perf_counter() - started
    if process.returncode not in (0, 1):
        raise SystemExit(f"csa-closure {' '.join(args)} exited {process.returncode}: {stderr[-2000:]}")
    return seconds, memory.peak_mb, process.returncode


class PrefectServer:
    """One local Prefect server for every command of the run, on a port of its own."""

    def __init__(self, home: Path) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/api"
        env = os.environ | {"PREFECT_HOME": str(home)}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise SystemExit("Prefect's server did not start")

    def stop(self) -> None:
        os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait()


def target_size_mb(url: str) -> float:
    engine = make_engine(url)
    try:
        if engine.dialect.name == "postgresql":
            with engine.connect() as conn:
                return conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one() / 2**20
        path = Path(url.removeprefix("sqlite:///"))
        return sum(p.stat().st_size for p in path.parent.glob(path.name + "*")) / 2**20
    finally:
        engine.dispose()


def largest_tables(url: str, top: int = 6) -> list[tuple[str, float, float]]:
    """PostgreSQL's largest target tables: name, MB of rows (with TOAST), MB of indexes."""
    with _raw(url) as conn:
        return conn.execute(
            "SELECT relname, pg_table_size(oid) / 1048576.0, pg_indexes_size(oid) / 1048576.0 FROM pg_class"
            " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
            " ORDER BY pg_total_relation_size(oid) DESC LIMIT %s",
            (top,),
        ).fetchall()


CONTRACT_TABLES = (
    cms_case, cms_unpaid_maintenance, cms_arrears_instalment, closure_outcome, write_off, letter, quarantine
)
"""CONTRACTS.md section 3's tables: what the target must hold, whatever the engine adds."""


def contract_size_mb(url: str) -> float:
    """PostgreSQL's size of the contract's tables alone, rows and indexes."""
    with _raw(url) as conn:
        return conn.execute(
            "SELECT sum(pg_total_relation_size(oid)) / 1048576.0 FROM pg_class"
            " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace AND relname = ANY(%s)",
            ([table.name for table in CONTRACT_TABLES],),
        ).fetchone()[0]


def _raw(url: str):
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))


def floor_seconds(legacy_url: str, target_url: str) -> tuple[float, float]:
    """PostgreSQL's own time to read every legacy row (COPY TO) and to write every target row
    the journey wrote (COPY FROM into an empty schema, foreign-key triggers off)."""
    with _raw(legacy_url) as conn:
        started = time.perf_counter()
        for table in legacy_metadata.sorted_tables:
            with conn.cursor().copy(f"COPY {table.name} TO STDOUT") as copy:
                for _ in copy:
                    pass
        read = time.perf_counter() - started
    dumps = {}
    with _raw(target_url) as conn:
        for table in target_metadata.sorted_tables:
            buffer = io.BytesIO()
            with conn.cursor().copy(f"COPY {table.name} TO STDOUT") as copy:
                for data in copy:
                    buffer.write(data)
            dumps[table.name] = buffer.getvalue()
    with legacy_database("postgres", "floor") as empty_url:
        upgrade_target(make_engine(empty_url))
        with _raw(empty_url) as conn:
            conn.execute("TRUNCATE journey_lease")
            conn.execute("SET session_replication_role = replica")
            started = time.perf_counter()
            for name, data in dumps.items():
                with conn.cursor().copy(f"COPY {name} FROM STDIN") as copy:
                    copy.write(data)
            conn.commit()
            written = time.perf_counter() - started
    return read, written


def advance_with_answers(env: dict, until: date, folder: Path) -> tuple[float, float, int]:
    """The journey week by week, the simulated parents' answers of each week imported after
    advancing to it (as operations would record them), then applied by the next advance."""
    seconds, peak, code, day = 0.0, 0.0, 0, START
    while day < until:
        day = min(until, day + timedelta(days=7))
        s, p, c = run_command(env, "advance", "--as-of", day.isoformat())
        seconds, peak, code = seconds + s, max(peak, p), max(code, c)
        responses = folder / f"answers-{day:%Y%m%d}.csv"
        s, p, _ = _draw_answers(env, day, responses)
        seconds, peak = seconds + s, max(peak, p)
    return seconds, peak, code


def _draw_answers(env: dict, day: date, path: Path) -> tuple[float, float, int]:
    """The applications and answers received in the week to ``day``: drawn as ``simulate``
    draws them (the same case always draws the same), imported with ``import-responses``."""
    import pandas as pd

    from load.journey import cases_awaiting_choice, cases_given_liability_end
    from synthetic import parents

    engine = make_engine(env["CSA_TARGET_URL"])
    with engine.connect() as conn:
        selected = cases_given_liability_end(conn, since=day - timedelta(days=7))
        awaiting = cases_awaiting_choice(conn)
    engine.dispose()
    drawn = pd.concat([parents.applications(selected, 1), parents.answers(awaiting, 30, 1)], ignore_index=True)
    drawn = drawn[
        (drawn["received"] > pd.Timestamp(day - timedelta(days=7))) & (drawn["received"] <= pd.Timestamp(day))
    ]
    if drawn.empty:
        return 0.0, 0.0, 0
    drawn.assign(received=drawn["received"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return run_command(env, "import-responses", str(path))


def run(backend: str, cases: int, until: date, answers: bool, legacy: str | None) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="csa_journey_") as folder,
        _legacy(backend, cases, legacy) as legacy_url,
        legacy_database(backend, "target") as target_url,
    ):
        server = PrefectServer(Path(folder) / "prefect")
        env = (
            os.environ
            | QUIET
            | {
                "CSA_LEGACY_URL": legacy_url,
                "CSA_TARGET_URL": target_url,
                "PREFECT_API_URL": server.url,
                "CSA_LETTERS_DIR": str(Path(folder) / "letters"),
                "PREFECT_HOME": str(Path(folder) / "prefect"),
            }
        )
        try:
            run_command(env, "init")
            steps = {
                "extract": run_command(env, "extract"),
                "plan": run_command(env, "plan", "--start", START.isoformat()),
                "advance": advance_with_answers(env, until, Path(folder))
                if answers
                else run_command(env, "advance", "--as-of", until.isoformat()),
                "report": run_command(env, "report", "--format", "json", "--out", str(Path(folder) / "report.json")),
            }
        finally:
            server.stop()
        report = json.loads((Path(folder) / "report.json").read_text())
        size = target_size_mb(target_url)
        tables = largest_tables(target_url) if backend == "postgres" else []
        contract_mb = contract_size_mb(target_url) if backend == "postgres" else None
        floor = floor_seconds(legacy_url, target_url) if backend == "postgres" else None
    total = sum(seconds for seconds, _, _ in steps.values())
    label = f"{backend} {cases:,} cases to {until}{' with answers' if answers else ''}"
    print(f"\n{label}: {report['totals']['cases']:,} cases selected, reconciliation {report['reconciliation_status']}")
    print(f"{'step':10} {'seconds':>9} {'cases/s':>9} {'peak MB':>9}")
    for step, (seconds, peak, _) in steps.items():
        print(f"{step:10} {seconds:9.1f} {cases / seconds:9,.0f} {peak:9,.0f}")
    print(f"{'all':10} {total:9.1f} {cases / total:9,.0f} {max(p for _, p, _ in steps.values()):9,.0f}")
    contract = f", the contract's tables {contract_mb:,.0f} MB of it" if contract_mb else ""
    print(f"target on disk {size:,.0f} MB{contract}")
    for name, rows_mb, indexes_mb in tables:
        print(f"  {name:24} {rows_mb:7,.0f} MB rows {indexes_mb:7,.0f} MB indexes")
    if floor:
        read, written = floor
        print(
            f"floor {read + written:.1f} s (legacy COPY TO {read:.1f} s + target COPY FROM {written:.1f} s); "
            f"the journey is {total / (read + written):.1f} times the floor"
        )
    sys.stdout.flush()


@contextmanager
def _legacy(backend: str, cases: int, reused: str | None) -> Iterator[str]:
    """The legacy estate: the one named, or one generated for the run in a child process."""
    if reused:
        yield reused
        return
    with legacy_database(backend) as legacy_url:
        child = multiprocessing.get_context("spawn").Process(target=_generate, args=(legacy_url, cases))
        child.start()
        child.join()
        yield legacy_url


def _generate(url: str, cases: int) -> None:
    generate_estate(make_engine(url, legacy=True, writable=True), cases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_200_000])
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgres"], default=["postgres", "sqlite"])
    parser.add_argument("--until", type=date.fromisoformat, default=date(2016, 3, 31))
    parser.add_argument("--answers", action="store_true", help="week by week, with simulated answers")
    parser.add_argument("--legacy", help="a legacy estate generated before (of --cases cases), to reuse")
    args = parser.parse_args()
    for cases in args.cases:
        for backend in args.backend:
            run(backend, cases, args.until, args.answers, args.legacy)


if __name__ == "__main__":
    main()
