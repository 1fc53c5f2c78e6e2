"""Time ``csa-closure record choice`` as a caseworker runs it: wall seconds of the whole process
(imports included), against a running local Prefect server and on the temporary-server path.

    python bench/bench_cli.py [--cases 300] [--runs 7]

Everything lives in a temporary folder: its own PREFECT_HOME, a SQLite legacy estate and target.
The set-up runs the real commands against the local server (``server start``, ``init``,
``generate``, ``extract``, ``plan``, ``advance``) with a one-month notice, so the first tranches
await their choice; then each timed run records an accepted choice for another such case, and
one more answers a case again (refused, exit 2). Last, with the server stopped, one more choice
on the temporary-server path. The target is 3 s a command against the running server.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = str(Path(sys.executable).with_name("csa-closure"))
ADVANCED_TO = "2014-08-15"  # a month's notice from 2014-07-07: the first tranches are choosing
TARGET_SECONDS = 3.0


def cpu_probe() -> float:
    """This machine's speed now (the README's probe): seconds for ten million squares."""
    started = time.perf_counter()
    sum(i * i for i in range(10**7))
    return time.perf_counter() - started


def command(environment: dict[str, str], *args: str) -> tuple[float, subprocess.CompletedProcess]:
    """Runs one command; its wall seconds (and its CPU seconds, in ``CPU_SECONDS``)."""
    cpu_before = _children_cpu()
    started = time.perf_counter()
    result = subprocess.run([CLI, *args], env=environment, capture_output=True, text=True, timeout=900)
    seconds = time.perf_counter() - started
    CPU_SECONDS.append(_children_cpu() - cpu_before)
    return seconds, result


CPU_SECONDS: list[float] = []
"""The CPU seconds (user and system) of each command run, in order: on a machine shared with
other work, a steadier figure than wall time."""


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def set_up(environment: dict[str, str], cases: int) -> None:
    for args in (
        ["server", "start"],
        ["init"],
        ["generate", "--cases", str(cases)],
        ["extract"],
        ["plan", "--start", "2014-07-07"],
        ["advance", "--as-of", ADVANCED_TO],
    ):
        seconds, result = command(environment, *args)
        if result.returncode != 0:
            sys.exit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        print(f"  set-up {' '.join(args)}: {seconds:.1f} s", flush=True)


def awaiting_choice(target: Path, count: int) -> list[str]:
    with sqlite3.connect(target) as conn:
        rows = conn.execute(
            "SELECT csa_case_ref FROM closure_outcome WHERE journey_state = 'AWAITING_CHOICE' "
            "ORDER BY csa_case_ref LIMIT ?", (count,)
        ).fetchall()
    if len(rows) < count:
        sys.exit(f"only {len(rows)} cases await a choice; try more --cases")
    return [ref for (ref,) in rows]


def record_choice(environment: dict[str, str], case: str, expected_exit: int) -> float:
    seconds, result = command(environment, "record", "choice", "--case", case, "--choice", "collect",
                              "--received", ADVANCED_TO)
    if result.returncode != expected_exit:
        sys.exit(f"record choice exited {result.returncode}, not {expected_exit}:\n{result.stdout}\n{result.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    print(f"CPU probe: {cpu_probe():.2f} s")
    with tempfile.TemporaryDirectory(prefix="csa_bench_cli_") as folder:
        folder = Path(folder)
        environment = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"} | {
            "PREFECT_HOME": str(folder / "prefect"),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "CSA_LEGACY_URL": f"sqlite:///{folder / 'legacy.db'}",
            "CSA_TARGET_URL": f"sqlite:///{folder / 'cms.db'}",
            "CSA_LETTERS_DIR": str(folder / "letters"),
            "CSA_RULE_LIABILITY_NOTICE_MONTHS": "1",
            "CSA_RULE_TRANCHE_CAPACITY": "100",
        }
        try:
            set_up(environment, options.cases)
            *accepted_cases, temporary_case = awaiting_choice(folder / "cms.db", options.runs + 1)
            accepted = [record_choice(environment, case, 0) for case in accepted_cases]
            accepted_cpu = CPU_SECONDS[-len(accepted):]
            refused = record_choice(environment, accepted_cases[0], 2)
        finally:
            command(environment, "server", "stop")
        temporary = record_choice(environment, temporary_case, 0)
    print(f"record choice against the running local server, accepted, {options.runs} runs: "
          + ", ".join(f"{s:.2f}" for s in accepted)
          + f" s (best {min(accepted):.2f} s, median {statistics.median(accepted):.2f} s, worst {max(accepted):.2f} s)")
    print("  their CPU (user and system): " + ", ".join(f"{s:.2f}" for s in accepted_cpu) + " s")
    print(f"record choice against the running local server, refused (answered already): {refused:.2f} s")
    print(f"record choice on the temporary-server path (no server running): {temporary:.2f} s")
    typical = statistics.median(accepted + [refused])
    print(f"target {TARGET_SECONDS:.0f} s a command against the running server (median): "
          f"{'met' if typical <= TARGET_SECONDS else 'MISSED'}; compare runs at the same CPU probe only")


if __name__ == "__main__":
    main()
