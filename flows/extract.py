"""The extract flow: stream both legacy systems in batches, validate, quarantine, snapshot."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from prefect import flow, task
from prefect.task_runners import ThreadPoolTaskRunner

from csa_closure.db import engine_for
from csa_closure.logs import get_logger
from csa_closure.retry import retry_on_transient
from csa_closure.settings import Settings, rule_settings
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
    )
    return extracted.cases_read


@flow(name="extract-legacy", task_runner=ThreadPoolTaskRunner(max_workers=2))
def extract_legacy(schemes: tuple[str, ...] = ("1993", "2003")) -> list[dict]:
    """Extract every case of each legacy system; returns a summary per scheme."""
    settings = Settings()
    legacy, target = engine_for(settings.legacy_url), engine_for(settings.target_url)
    require_current_schema(target)
    summaries = []
    for scheme in schemes:
        system = SYSTEMS[scheme]
        extracted_on = extract_date(legacy, system)
        run = start_extract_run(target, scheme, extracted_on)
        duplicates = known_duplicates(legacy, system)
        with target.begin() as conn:
            record_quarantine(conn, duplicate_person_records(legacy, system, duplicates), run, extracted_on)
        ranges = batch_ranges(legacy, system, rule_settings().batch_size)
        futures = [
            extract_batch.with_options(task_run_name=f"extract-{scheme}-B{batch.number:03d}").submit(
                scheme, batch, duplicates, run
            )
            for batch in ranges
        ]
        cases_read = sum(future.result() for future in futures)
        counts = finish_extract_run(target, run, cases_read)
        summary = SchemeSummary(scheme=scheme, extract_run=run, **counts)
        log.info("extract finished", **asdict(summary))
        summaries.append(asdict(summary))
    return summaries
