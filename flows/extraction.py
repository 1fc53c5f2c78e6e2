"""The extract flow: stream every registered legacy system in batches, validate, quarantine,
snapshot.

(Not ``flows/extract.py``: Prefect puts a deployment's entrypoint folder, ``flows/``, first on
the path, where such a module would hide the ``extract`` package from the batch workers.)

Validating a batch is CPU-bound Python, so batches run in processes, not threads: the flow's
own and a pool of workers, one per other core (``PREFECT_TASKS_RUNNER_PROCESS_POOL_MAX_WORKERS``
sets the pool's size).
"""

from __future__ import annotations

import contextvars
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date

from prefect import flow, task
from prefect.runtime import flow_run

from csa_closure.db import engine_for
from csa_closure.locks import journey_lock
from csa_closure.logs import get_logger
from csa_closure.retry import retry_on_transient
from csa_closure.settings import Settings, rule_settings
from extract import systems
from extract.batches import (
    BatchRange,
    KnownDuplicates,
    batch_ranges,
    duplicate_person_records,
    extract_date,
    known_duplicates,
    legacy_extract_date,
    read_batch,
)
from flows import progress as run_progress
from flows.context import current_run_id, keep_tables_in_hand, show_crashed_on_dashboard
from flows.runners import LocalOrCluster, on_cluster
from flows.workers import POOL_WORKERS, process_pool, share_api_with_workers
from load.extracted import (
    finish_extract_run,
    record_batch,
    record_quarantine,
    recorded_extracts,
    start_extract_run,
)
from load.migrate import require_current_schema
from transform.segments import segment_rules, segments_as_extracted

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
    system = systems.system_of(scheme)
    legacy, target = engine_for(settings.legacy_url, legacy=True), engine_for(settings.target_url)
    extracted = read_batch(legacy, system, batch, duplicates, extracted_on)
    kept = segments_as_extracted(extracted.cases, extracted.ledger, rule_settings())
    record_batch(target, extracted, kept, run, extracted_on)
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


def legacy_empty() -> str:
    return f"the legacy database holds no {systems.names()} extract"


@dataclass(frozen=True)
class ExtractFirst:
    """What ``extract_if_newer`` found: whether the legacy database holds any extract at all,
    and the summaries of the extract it ran (none when nothing was newer)."""

    legacy_empty: bool
    extracted: list[dict]


def extract_if_newer() -> ExtractFirst:
    """Extract first where a legacy system's extract is newer than the last one recorded, or
    none is (CONTRACTS.md: ``plan`` and ``advance`` do), and say so in one line."""
    settings = Settings()
    legacy, target = engine_for(settings.legacy_url, legacy=True), engine_for(settings.target_url)
    in_legacy = {system.scheme: legacy_extract_date(legacy, system) for system in systems.registered()}
    if not any(in_legacy.values()):
        log.warning(f"{legacy_empty()}: nothing to extract")
        return ExtractFirst(legacy_empty=True, extracted=[])
    recorded = recorded_extracts(target, segment_rules(rule_settings()))
    newer = [s for s, on in in_legacy.items() if on is not None and (s not in recorded or on > recorded[s])]
    if not newer:
        return ExtractFirst(legacy_empty=False, extracted=[])
    log.info(
        "extracting first: the legacy extract is newer than the last one recorded",
        **{f"legacy_{s}": in_legacy[s].isoformat() for s in newer},
        **{f"recorded_{s}": recorded[s].isoformat() if s in recorded else "none" for s in newer},
    )
    return ExtractFirst(legacy_empty=False, extracted=extract_legacy(tuple(newer)))


def _extract_run_name() -> str:
    schemes = flow_run.parameters.get("schemes")
    return "extract-" + ("-".join(schemes) if schemes else "all")


@flow(name="extract-legacy", flow_run_name=_extract_run_name, task_runner=LocalOrCluster(process_pool()))
def extract_legacy(schemes: tuple[str, ...] | None = None) -> list[dict]:
    """Extract every case of each legacy system of ``schemes`` (every registered one by
    default); returns a summary per scheme. Holds the journey lock: the snapshot does not change
    under a selection."""
    settings = Settings()
    legacy, target = engine_for(settings.legacy_url, legacy=True), engine_for(settings.target_url)
    require_current_schema(target)
    run_id = current_run_id()
    with journey_lock(target, "extract", run_id) as lease:
        show_crashed_on_dashboard(target, [], lease, run_id)  # an extract keeps no engine_run row to find it by
        return _extract(legacy, target, settings, schemes or systems.schemes())


def _extract(legacy, target, settings: Settings, schemes: tuple[str, ...]) -> list[dict]:
    size = settings.extract_batch_size
    ranges = {scheme: batch_ranges(legacy, systems.system_of(scheme), size) for scheme in schemes}
    batches = sum(map(len, ranges.values()))
    pooled = batches > INLINE_BATCHES
    if pooled:
        share_api_with_workers()
    progress = run_progress.extract_batches.get()
    if progress:
        progress(0, batches)
    opened = []
    done = (lambda count: progress(count, batches)) if progress else None
    lanes = (  # on a cluster every batch is sent at once, and its scheduler shares them out
        BatchLanes(max(batches - 1, 0), run_here=_pooled_batch, on_batch_done=done)
        if on_cluster() else BatchLanes(POOL_WORKERS if pooled else 0, on_batch_done=done)
    )
    with lanes:
        for scheme in schemes:  # the pool works a scheme's batches while the next one opens
            opened.append(_open_scheme(legacy, target, scheme, ranges[scheme]))
            lanes.put(opened[-1])
        cases_read = lanes.work_until_done()
    summaries = []
    for scheme in opened:
        counts = finish_extract_run(target, scheme.run, cases_read.get(scheme.run, 0))
        summary = SchemeSummary(scheme=scheme.scheme, extract_run=scheme.run, **counts)
        log.info("extract finished", **asdict(summary))
        summaries.append(asdict(summary))
    keep_tables_in_hand(target)
    return summaries


@dataclass(frozen=True)
class OpenedScheme:
    """A scheme's extract run, opened, with the keys its batches check and its batches."""

    scheme: str
    run: str
    extracted_on: date
    duplicates: KnownDuplicates
    batches: list[BatchRange]


def _open_scheme(legacy, target, scheme: str, batches: list[BatchRange]) -> OpenedScheme:
    """Open the scheme's extract run and quarantine its duplicated persons."""
    system = systems.system_of(scheme)
    extracted_on = extract_date(legacy, system)
    run = start_extract_run(target, scheme, extracted_on, segment_rules(rule_settings()))
    duplicates = known_duplicates(legacy, system)
    with target.begin() as conn:
        record_quarantine(conn, duplicate_person_records(legacy, system, duplicates), run, extracted_on)
    return OpenedScheme(scheme, run, extracted_on, duplicates, batches)


def _batch_task(scheme: OpenedScheme, batch: BatchRange):
    return extract_batch.with_options(task_run_name=f"extract-{scheme.scheme}-B{batch.number:03d}")


def _batch_arguments(scheme: OpenedScheme, batch: BatchRange) -> tuple:
    return scheme.scheme, batch, scheme.duplicates, scheme.run, scheme.extracted_on


def _run_batch(scheme: OpenedScheme, batch: BatchRange) -> int:
    return _batch_task(scheme, batch)(*_batch_arguments(scheme, batch))


def _pooled_batch(scheme: OpenedScheme, batch: BatchRange) -> int:
    return _batch_task(scheme, batch).submit(*_batch_arguments(scheme, batch)).result()


BatchRunner = Callable[[OpenedScheme, BatchRange], int]
"""Runs one batch of a scheme; returns the cases it read."""


class BatchLanes:
    """One queue of batches, worked by the flow's process (``run_here``) and, through a thread
    each, by ``pool_lanes`` of the pool's workers (``run_pooled``): each takes the next batch as
    it finishes one, so none sits idle while batches wait. The pool's lanes start at once, on
    the batches of the first scheme put, while the flow's process opens the next. A failed
    batch does not stop the others; the first failure fails the flow once all are done. Leaving
    the block early (an error, an interruption) lets the pool's lanes finish the batches they
    hold, and stops them. ``on_batch_done`` is told how many batches are done as each one is."""

    def __init__(
        self, pool_lanes: int, run_pooled: BatchRunner = _pooled_batch, run_here: BatchRunner = _run_batch,
        on_batch_done: Callable[[int], None] | None = None,
    ) -> None:
        self._run_here = run_here
        self._on_batch_done = on_batch_done
        self._queue: queue.SimpleQueue[tuple[OpenedScheme, BatchRange] | None] = queue.SimpleQueue()
        self._stopping = threading.Event()
        self._read: list[tuple[str, int]] = []
        self._failures: list[BaseException] = []
        self._lanes = [
            threading.Thread(target=contextvars.copy_context().run, args=(self._work, run_pooled))
            for _ in range(pool_lanes)
        ]

    def __enter__(self) -> BatchLanes:
        for lane in self._lanes:
            lane.start()
        return self

    def put(self, scheme: OpenedScheme) -> None:
        for batch in scheme.batches:
            self._queue.put((scheme, batch))

    def work_until_done(self) -> dict[str, int]:
        """Work batches in the flow's process until none is left; cases read per run."""
        for _ in range(len(self._lanes) + 1):  # one end marker per lane, after every batch
            self._queue.put(None)
        self._work(self._run_here)
        self._join()
        if self._failures:
            raise self._failures[0]
        cases_read: dict[str, int] = {}
        for run, cases in self._read:
            cases_read[run] = cases_read.get(run, 0) + cases
        return cases_read

    def __exit__(self, *exc) -> None:
        if exc[0] is not None:
            self._stopping.set()
            for _ in self._lanes:
                self._queue.put(None)  # wakes a lane waiting for the next scheme's batches
        self._join()

    def _join(self) -> None:
        for lane in self._lanes:
            lane.join()

    def _work(self, run) -> None:
        while not self._stopping.is_set():
            item = self._queue.get()
            if item is None:
                return
            scheme, batch = item
            try:
                self._read.append((scheme.run, run(scheme, batch)))
                if self._on_batch_done:
                    self._on_batch_done(len(self._read))
            except BaseException as failure:  # an interruption is recorded too, then ends the lane
                self._failures.append(failure)
                if not isinstance(failure, Exception):
                    raise
