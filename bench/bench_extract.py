"""Time extract + validate of a generated estate on SQLite and PostgreSQL: cases per second and
the extracting process's peak RSS.

    python bench/bench_extract.py [--cases 100000 1200000] [--backend sqlite postgres]

Each estate is generated in a child process first, so the peak RSS is the extract's own. The
target is a second database beside the legacy one (dropped afterwards, as bench_generate does).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

from bench_generate import legacy_database, peak_rss_mb  # noqa: E402
from prefect import flow  # noqa: E402

from csa_closure.db import make_engine  # noqa: E402
from csa_closure.logs import configure_logging  # noqa: E402
from flows.extract import extract_legacy  # noqa: E402
from load.migrate import upgrade_target  # noqa: E402
from synthetic import generate_estate  # noqa: E402


def _generate(url: str, cases: int) -> None:
    generate_estate(make_engine(url), cases)


@flow
def _warm_up() -> None:
    """Start Prefect's local server before the clock starts."""


def run(backend: str, cases: int) -> None:
    with legacy_database(backend) as legacy_url, legacy_database(backend, "target") as target_url:
        child = multiprocessing.get_context("spawn").Process(target=_generate, args=(legacy_url, cases))
        child.start()
        child.join()
        os.environ.update(CSA_LEGACY_URL=legacy_url, CSA_TARGET_URL=target_url)
        upgrade_target(make_engine(target_url))
        started = time.perf_counter()
        summaries = extract_legacy()
        seconds = time.perf_counter() - started
    extracted = sum(s["cases_extracted"] for s in summaries)
    held = sum(s["cases_held"] for s in summaries)
    print(
        f"{backend:10} {cases:>9,} cases  extract+validate {seconds:7.1f} s  "
        f"{extracted / seconds:8,.0f} cases/s  held back {held:,}  peak RSS {peak_rss_mb():,.0f} MB",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_200_000])
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    args = parser.parse_args()
    configure_logging("WARNING")
    _warm_up()
    for cases in args.cases:
        for backend in args.backend:
            run(backend, cases)


if __name__ == "__main__":
    main()
