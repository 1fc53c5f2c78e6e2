"""Time extract + validate of a generated estate on SQLite and PostgreSQL: cases per second and
the peak memory of the extracting processes (the flow and its batch workers, together).

    python bench/bench_extract.py [--cases 100000 1200000] [--backend sqlite postgres] [--repeat N]

Each estate is generated in a child process, and extracted in another, so each run's peak is
that extract's own. The target is a second database beside the legacy one (dropped afterwards,
as bench_generate does). Prefect's local server is started before the clock and is not counted
in the memory. ``--repeat`` extracts the same estate again into a fresh target, N times in all:
this machine's speed varies from run to run, and the end of a flow run waits up to a second
for Prefect's heartbeat thread.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import threading
import time
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
os.environ.setdefault("CSA_LOG_LEVEL", "WARNING")

from bench_generate import legacy_database  # noqa: E402
from prefect import flow  # noqa: E402

from csa_closure.db import make_engine  # noqa: E402
from csa_closure.logs import configure_logging  # noqa: E402
from flows.extraction import extract_legacy  # noqa: E402
from load.migrate import upgrade_target  # noqa: E402
from synthetic import generate_estate  # noqa: E402

PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


def _generate(url: str, cases: int) -> None:
    generate_estate(make_engine(url, legacy=True, writable=True), cases)


@flow
def _warm_up() -> None:
    """Start Prefect's local server before the clock starts."""


class TreeMemory:
    """Samples the resident memory of this process and its descendants (but Prefect's server)
    every 0.2 s; ``peak_mb`` is the largest total seen."""

    def __init__(self) -> None:
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _sample(self) -> None:
        while not self._stop.wait(0.2):
            self.peak_mb = max(self.peak_mb, sum(_rss_kb(pid) for pid in _tree(os.getpid())) / 1024)


def _tree(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:
            continue
        if b"uvicorn" not in cmdline:
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, pending = [], [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        pending.extend(children.get(pid, []))
    return found


def _rss_kb(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE_KB
    except OSError:
        return 0


def _extract(legacy_url: str, target_url: str, backend: str, cases: int) -> None:
    os.environ.update(CSA_LEGACY_URL=legacy_url, CSA_TARGET_URL=target_url)
    configure_logging("WARNING")
    _warm_up()
    upgrade_target(make_engine(target_url))
    with TreeMemory() as memory:
        started = time.perf_counter()
        summaries = extract_legacy()
        seconds = time.perf_counter() - started
    extracted = sum(s["cases_extracted"] for s in summaries)
    held = sum(s["cases_held"] for s in summaries)
    print(
        f"{backend:10} {cases:>9,} cases  extract+validate {seconds:7.1f} s  "
        f"{extracted / seconds:8,.0f} cases/s  held back {held:,}  peak RSS {memory.peak_mb:,.0f} MB",
        flush=True,
    )


def run(backend: str, cases: int, repeat: int) -> None:
    with legacy_database(backend) as legacy_url:
        _in_child(_generate, legacy_url, cases)
        for _ in range(repeat):
            with legacy_database(backend, "target") as target_url:
                _in_child(_extract, legacy_url, target_url, backend, cases)


def _in_child(target, *args) -> None:
    child = multiprocessing.get_context("spawn").Process(target=target, args=args)
    child.start()
    child.join()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, nargs="+", default=[100_000, 1_200_000])
    parser.add_argument("--backend", nargs="+", choices=["sqlite", "postgres"], default=["sqlite", "postgres"])
    parser.add_argument("--repeat", type=int, default=1, help="extracts of each estate, each into a fresh target")
    args = parser.parse_args()
    for cases in args.cases:
        for backend in args.backend:
            run(backend, cases, args.repeat)


if __name__ == "__main__":
    main()
