"""Processes that work batches beside a flow's own: the extract's batches and the journey's units.

Validation and the journey's rules are CPU-bound Python, so on a machine of several cores the
batches of one step run in processes, not threads. A process spends seconds importing Prefect,
pandas and pandera before its first batch, so a flow starts its pool only for work that pays
for it.
"""

from __future__ import annotations

import gc
import os
import threading
import time

from prefect import get_client
from prefect.settings import PREFECT_API_URL, get_current_settings
from prefect.task_runners import ProcessPoolTaskRunner

from csa_closure.logs import configure_logging

POOL_WORKERS = get_current_settings().tasks.runner.process_pool_max_workers or max(1, (os.cpu_count() or 2) - 1)
"""Worker processes beside the flow's own, which works batches too: on two cores a second worker
would spend seconds of one importing what the flow's process already has."""


def configure_worker() -> None:
    """Set up a worker. Its imports' objects (a few hundred thousand) are frozen out of the
    garbage collector's reach: its full collections during batches, and the one as it exits,
    would otherwise walk them all, for nothing, and the flow waits for its exit."""
    configure_logging()
    end_with_parent()
    gc.freeze()


def end_with_parent(every_seconds: float = 1.0) -> None:
    """End this process once the one that started it has gone. A pool's worker outlives a flow
    process that was killed (``kill -9``, the out-of-memory killer), and would wait for work
    forever, holding its database connections; what it had not committed rolls back."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every_seconds)
        os._exit(1)

    threading.Thread(target=watch, name="end-with-parent", daemon=True).start()


def share_api_with_workers() -> None:
    """Point the worker processes at this run's Prefect API. Without a configured server the
    run has a temporary one of its own, and each worker would start yet another, so the
    batches' task runs would be lost to the dashboard."""
    if not PREFECT_API_URL.value():
        os.environ["PREFECT_API_URL"] = str(get_client(sync_client=True).api_url)


def process_pool(workers: int = POOL_WORKERS) -> ProcessPoolTaskRunner:
    return ProcessPoolTaskRunner(max_workers=workers, initializer=configure_worker)
