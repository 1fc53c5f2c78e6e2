"""Run one ``csa-closure`` command and interrupt it at a commit boundary, for tests/faults.

    python tests/faults/interrupt.py --at POINT [--nth N] [--case REF] [--do kill|pause] -- ARGS

The boundaries are the engine's own: each POINT names the function whose call, before or after
it runs, is that boundary (``POINTS``). ``kill`` ends the process with SIGKILL there, as a
power cut or ``kill -9`` would; ``pause`` creates ``$CSA_FAULT_PAUSED`` and waits until
``$CSA_FAULT_RELEASE`` exists, so a test can act while the run stands at that point (record an
event, take its lock away). The N-th call is the one interrupted (counting only calls that
mention ``--case`` in their frames, when given).
"""

from __future__ import annotations

import argparse
import importlib
import os
import signal
import sys
import threading
import time
from pathlib import Path

import pandas as pd

POINTS = {
    # a journey unit: its reads done, its write transaction not begun
    "unit-before-write": ("csa_closure.service.journey", "_letters_with_bodies", "before"),
    # inside the unit's write transaction, every write done, not committed
    "unit-before-commit": ("csa_closure.service.journey", "require_reconciled", "after"),
    "unit-after-commit": ("csa_closure.service.journey", "_commit", "after"),
    "selection-after-commit": ("csa_closure.service.journey", "select_tranche", "after"),
    # a run that took the journey lock (the lease names it), before it checks the runs before it
    "run-before-marking": ("flows.context", "show_crashed_on_dashboard", "before"),
    # a run that took the journey lock: runs left running shown crashed, its own record not begun
    "run-before-record": ("flows.context", "start_run", "before"),
    # dispatch-letters: its lock's lease taken, nothing claimed; the batch claimed; the file
    # published; the letters marked
    "dispatch-after-lock": ("flows.letters", "remove_leftovers", "before"),
    "dispatch-after-claim": ("flows.letters", "write_batch", "before"),
    "dispatch-after-publish": ("flows.letters", "mark_dispatched", "before"),
    "dispatch-after-commit": ("flows.letters", "write_batch", "after"),
    # extract: a batch's snapshot copied in, its transaction open; a batch committed
    "extract-after-copy": ("load.extracted", "replace_frame", "after"),
    "extract-after-commit": ("flows.extraction", "record_batch", "after"),
}


def _mentions(case: str, values) -> bool:
    for value in values:
        if isinstance(value, pd.DataFrame) and "case_ref" in value and (value["case_ref"] == case).any():
            return True
        if hasattr(value, "__dataclass_fields__") and _mentions(case, vars(value).values()):
            return True
    return False


def _stop(action: str) -> None:
    if action == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    Path(os.environ["CSA_FAULT_PAUSED"]).touch()
    release = Path(os.environ["CSA_FAULT_RELEASE"])
    while not release.exists():
        time.sleep(0.05)


def install(point: str, nth: int, case: str | None, action: str) -> None:
    module_name, name, when = POINTS[point]
    module = importlib.import_module(module_name)
    real = getattr(module, name)
    calls = 0
    guard = threading.Lock()

    def interrupted(*args, **kwargs):
        nonlocal calls
        if case is None or _mentions(case, [*args, *kwargs.values()]):
            with guard:
                calls += 1
                due = calls == nth
        else:
            due = False
        if due and when == "before":
            _stop(action)
        result = real(*args, **kwargs)
        if due and when == "after":
            _stop(action)
        return result

    setattr(module, name, interrupted)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--at", required=True, choices=sorted(POINTS))
    parser.add_argument("--nth", type=int, default=1)
    parser.add_argument("--case")
    parser.add_argument("--do", default="kill", choices=["kill", "pause"])
    parser.add_argument("command", nargs=argparse.REMAINDER)
    options = parser.parse_args()
    install(options.at, options.nth, options.case, options.do)
    from csa_closure.cli import main as cli

    sys.argv = ["csa-closure", *[arg for arg in options.command if arg != "--"]]
    cli()


if __name__ == "__main__":
    main()
