"""Time ``generate_estate`` on SQLite and PostgreSQL: cases per second and peak RSS.

    python bench/bench_generate.py [--cases 100000 1200000] [--backend sqlite postgres]

SQLite estates go to a temporary file; PostgreSQL estates to a database of their own
(``csa_bench_<pid>``) on the local server, dropped afterwards (never ``test`` or ``postgres``).
Peak RSS is the process's maximum so far, so a run's figure includes the runs before it.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from csa_closure.db import make_engine
from synthetic import generate_estate

PG_ADMIN_URL = os.environ.get("CSA_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


@contextmanager
def legacy_database(backend: str, role: str = "legacy") -> Iterator[str]:
    """A fresh database URL for one run, removed afterwards."""
    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix="csa_bench_") as folder:
            yield f"sqlite:///{Path(folder) / f'{role}.db'}"
        return
    name = f"csa_bench_{role}_{os.getpid()}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run(backend: str, cases: int) -> None:
    with legacy_database(backend) as url:
        engine = make_engine(url, legacy=True, writable=True)
        started = time.perf_counter()
        manifest = generate_estate(engine, cases)
        seconds = time.perf_counter() - started
        engine.dispose()
    rows = sum(manifest.rows_by_table.values())
    print(
        f"{backend:9} {cases:>10,} cases  {seconds:8.1f} s  {cases / seconds:9,.0f} cases/s  "
        f"{rows / seconds:10,.0f} rows/s  {rows:>12,} rows  peak RSS {peak_rss_mb():7.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_200_000])
    parser.add_argument("--backend", choices=["sqlite", "postgres"], nargs="+", default=["sqlite", "postgres"])
    args = parser.parse_args()
    for cases in args.cases:
        for backend in args.backend:
            run(backend, cases)


if __name__ == "__main__":
    main()
