"""The extract flow: stream both legacy systems in batches, validate, quarantine, snapshot.

Validating a batch is CPU-bound Python, so batches run in a pool of worker processes (one per
core unless ``PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS`` says otherwise), not threads.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass

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
def extract_batch(scheme: str, batch: BatchRange, duplicates: KnownDuplicates, run: str) -> int:
    """Read, validate and record one batch of cases in one transaction; returns cases read."""
    started = time.perf_counter()
    settings = Settings()
    system = SYSTEMS[scheme]
    legacy, target = engine_for(settings.legacy_url), engine_for(settings.target_url)
    extracted_on = extract_date(legacy, system)
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


def _configure_worker() -> None:
    configure_logging(Settings().log_level)


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
    legacy, target = engine_for(settings.legacy_url), engine_for(settings.target_url)
    require_current_schema(target)
    _share_api_with_workers()
    submitted = {scheme: _submit_scheme(legacy, target, scheme, settings.extract_batch_size) for scheme in schemes}
    summaries = []
    for scheme, (run, futures) in submitted.items():
        cases_read = sum(future.result() for future in futures)
        counts = finish_extract_run(target, run, cases_read)
        summary = SchemeSummary(scheme=scheme, extract_run=run, **counts)
        log.info("extract finished", **asdict(summary))
        summaries.append(asdict(summary))
    return summaries


def _submit_scheme(legacy, target, scheme: str, batch_size: int) -> tuple[str, list]:
    """Open the scheme's extract run, quarantine its duplicated persons and submit its batches;
    both schemes' batches share the worker pool, so neither waits for the other's last batch."""
    system = SYSTEMS[scheme]
    extracted_on = extract_date(legacy, system)
    run = start_extract_run(target, scheme, extracted_on)
    duplicates = known_duplicates(legacy, system)
    with target.begin() as conn:
        record_quarantine(conn, duplicate_person_records(legacy, system, duplicates), run, extracted_on)
    futures = [
        extract_batch.with_options(task_run_name=f"extract-{scheme}-B{batch.number:03d}").submit(
            scheme, batch, duplicates, run
        )
        for batch in batch_ranges(legacy, system, batch_size)
    ]
    return run, futures
