"""The extract flow: stream both legacy systems in batches, validate, quarantine, snapshot.

(Not ``flows/extract.py``: Prefect puts a deployment's entrypoint folder, ``flows/``, first on
the path, where such a module would hide the ``extract`` package from the batch workers.)

Validating a batch is CPU-bound Python, so batches run in processes, not threads: the flow's
own and a pool of workers, one per other core (``PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS``
sets the pool's size).
"""

from __future__ import annotations

import contextvars
import gc
import os
import threading
import time
from collections import deque
from dataclasses import asdict, dataclass
from datetime import date

from prefect import flow, get_client, task
from prefect.settings import PREFECT_API_URL, get_current_settings
from prefect.task_runners import ProcessPoolTaskRunner

from csa_closure.db import engine_for
from csa_closure.logs import configure_logging, get_logger
from csa_closure.retry import retry_on_transient
from csa_closure.settings import Settings
from extract.batches import (
    BatchRange,
    KnownDuplicates,
    batch_ranges,
    duplicate_person_records,
    extract_date,
    known_duplicates,
    read_batch,
)
from extract.cs2 import CS2
from extract.cscs import CSCS
from extract.systems import LegacySystem
from load.extracted import finish_extract_run, record_batch, record_quarantine, start_extract_run
from load.migrate import require_current_schema
from transform.segments import last_receipt_on

SYSTEMS: dict[str, LegacySystem] = {CSCS.scheme: CSCS, CS2.scheme: CS2}
log = get_logger("extract")


@dataclass(frozen=True)
class SchemeSummary:
    scheme: str
    extract_run: str
    cases_extracted: int
    cases_clean: int
    cases_held: int
    records_quarantined: int


@task(name="extract-batch", retries=3, retry_delay_seconds=[1, 5, 15], retry_condition_fn=retry_on_transient)
def extract_batch(
    scheme: str, batch: BatchRange, duplicates: KnownDuplicates, run: str, extracted_on: date
) -> int:
    """Read, validate and record one batch of cases in one transaction; returns cases read."""
    started = time.perf_counter()
    settings = Settings()
    system = SYSTEMS[scheme]
    legacy, target = engine_for(settings.legacy_url, legacy=True), engine_for(settings.target_url)
    extracted = read_batch(legacy, system, batch, duplicates, extracted_on)
    receipts = last_receipt_on(extracted.ledger, extracted.cases.set_index("case_ref")["extracted_on"])
    record_batch(target, extracted, receipts, run, extracted_on)
    log.info(
        "batch extracted",
        extract_run=run,
        batch=extracted.label,
        cases_read=extracted.cases_read,
        cases_clean=len(extracted.cases),
        cases_held=len(extracted.held_case_refs),
        records_quarantined=len(extracted.quarantined),
        seconds=round(time.perf_counter() - started, 2),
    )
    return extracted.cases_read


INLINE_BATCHES = 2
"""Up to this many batches in all run in the flow's own process alone: starting a worker process
(seconds) would cost a small extract more than it saves."""

POOL_WORKERS = get_current_settings().tasks.runner.process_pool_max_workers or max(1, (os.cpu_count() or 2) - 1)
"""Worker processes beside the flow's own, which works batches too: on two cores a second worker
would spend seconds of one importing what the flow's process already has."""


def _configure_worker() -> None:
    """Set up a batch worker. Its imports' objects (a few hundred thousand) are frozen out of
    the garbage collector's reach: its full collections during batches, and the one as it
    exits, would otherwise walk them all, for nothing, and the flow waits for its exit."""
    configure_logging(Settings().log_level)
    gc.freeze()


def _share_api_with_workers() -> None:
    """Point the worker processes at this run's Prefect API. Without a configured server the
    run has a temporary one of its own, and each worker would start yet another, so the
    batches' task runs would be lost to the dashboard."""
    if not PREFECT_API_URL.value():
        os.environ["PREFECT_API_URL"] = str(get_client(sync_client=True).api_url)


@flow(name="extract-legacy", task_runner=ProcessPoolTaskRunner(max_workers=POOL_WORKERS, initializer=_configure_worker))
def extract_legacy(schemes: tuple[str, ...] = ("1993", "2003")) -> list[dict]:
    """Extract every case of each legacy system; returns a summary per scheme."""
    settings = Settings()
    legacy, target = engine_for(settings.legacy_url, legacy=True), engine_for(settings.target_url)
    require_current_schema(target)
    opened = [_open_scheme(legacy, target, scheme, settings.extract_batch_size) for scheme in schemes]
    cases_read = _run_batches(opened)
    summaries = []
    for scheme in opened:
        counts = finish_extract_run(target, scheme.run, cases_read[scheme.run])
        summary = SchemeSummary(scheme=scheme.scheme, extract_run=scheme.run, **counts)
        log.info("extract finished", **asdict(summary))
        summaries.append(asdict(summary))
    return summaries


@dataclass(frozen=True)
class OpenedScheme:
    """A scheme's extract run, opened, with the keys its batches check and its batches."""

    scheme: str
    run: str
    extracted_on: date
    duplicates: KnownDuplicates
    batches: list[BatchRange]


def _open_scheme(legacy, target, scheme: str, batch_size: int) -> OpenedScheme:
    """Open the scheme's extract run, quarantine its duplicated persons, cut its batches."""
    system = SYSTEMS[scheme]
    extracted_on = extract_date(legacy, system)
    run = start_extract_run(target, scheme, extracted_on)
    duplicates = known_duplicates(legacy, system)
    with target.begin() as conn:
        record_quarantine(conn, duplicate_person_records(legacy, system, duplicates), run, extracted_on)
    return OpenedScheme(scheme, run, extracted_on, duplicates, batch_ranges(legacy, system, batch_size))


def _batch_task(scheme: OpenedScheme, batch: BatchRange):
    return extract_batch.with_options(task_run_name=f"extract-{scheme.scheme}-B{batch.number:03d}")


def _batch_arguments(scheme: OpenedScheme, batch: BatchRange) -> tuple:
    return scheme.scheme, batch, scheme.duplicates, scheme.run, scheme.extracted_on


def _run_batch(scheme: OpenedScheme, batch: BatchRange) -> int:
    return _batch_task(scheme, batch)(*_batch_arguments(scheme, batch))


def _pooled_batch(scheme: OpenedScheme, batch: BatchRange) -> int:
    return _batch_task(scheme, batch).submit(*_batch_arguments(scheme, batch)).result()


def _run_batches(opened: list[OpenedScheme]) -> dict[str, int]:
    """Cases read per run. Both schemes' batches form one queue, worked by the flow's process
    and, through a thread each, by the pool's workers: each takes the next batch as it finishes
    one, so none sits idle while batches wait. A failed batch does not stop the others; the
    first failure fails the flow once all are done."""
    queue = deque((scheme, batch) for scheme in opened for batch in scheme.batches)
    read: list[tuple[str, int]] = []
    failures: list[BaseException] = []

    def work(run) -> None:
        while True:
            try:
                scheme, batch = queue.popleft()
            except IndexError:
                return
            try:
                read.append((scheme.run, run(scheme, batch)))
            except BaseException as failure:  # an interruption is recorded too, then ends the lane
                failures.append(failure)
                if not isinstance(failure, Exception):
                    raise

    lanes = []
    if len(queue) > INLINE_BATCHES:
        _share_api_with_workers()
        lanes = [threading.Thread(target=contextvars.copy_context().run, args=(work, _pooled_batch))
                 for _ in range(POOL_WORKERS)]
    for lane in lanes:
        lane.start()
    try:
        work(_run_batch)
    except BaseException:
        queue.clear()  # interrupted: the pool's lanes finish the batches they hold and stop
        raise
    finally:
        for lane in lanes:
            lane.join()
    if failures:
        raise failures[0]
    cases_read = {scheme.run: 0 for scheme in opened}
    for run, cases in read:
        cases_read[run] += cases
    return cases_read
