"""The extract flow: stream both legacy systems in batches, validate, quarantine, snapshot.

(Not ``flows/extract.py``: Prefect puts a deployment's entrypoint folder, ``flows/``, first on
the path, where such a module would hide the ``extract`` package from the batch workers.)

Validating a batch is CPU-bound Python, so batches run in a pool of worker processes (one per
core unless ``PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS`` says otherwise), not threads.
"""

from __future__ import annotations

import gc
import os
import time
from dataclasses import asdict, dataclass
from datetime import date

from prefect import flow, get_client, task
from prefect.settings import PREFECT_API_URL
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
"""Up to this many batches in all run in the flow's own process: starting worker processes
(seconds each) would cost a small extract more than it saves."""


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


@flow(name="extract-legacy", task_runner=ProcessPoolTaskRunner(initializer=_configure_worker))
def extract_legacy(schemes: tuple[str, ...] = ("1993", "2003")) -> list[dict]:
    """Extract every case of each legacy system; returns a summary per scheme."""
    settings = Settings()
    legacy, target = engine_for(settings.legacy_url, legacy=True), engine_for(settings.target_url)
    require_current_schema(target)
    opened = [_open_scheme(legacy, target, scheme, settings.extract_batch_size) for scheme in schemes]
    if sum(len(scheme.batches) for scheme in opened) <= INLINE_BATCHES:
        cases_read = {scheme.run: sum(_run_batch(scheme, batch) for batch in scheme.batches) for scheme in opened}
    else:
        _share_api_with_workers()
        futures = {scheme.run: [_submit_batch(scheme, batch) for batch in scheme.batches] for scheme in opened}
        cases_read = {run: sum(future.result() for future in batches) for run, batches in futures.items()}
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


def _submit_batch(scheme: OpenedScheme, batch: BatchRange):
    """Both schemes' batches share the worker pool, so neither waits for the other's last."""
    return _batch_task(scheme, batch).submit(*_batch_arguments(scheme, batch))
