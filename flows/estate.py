"""The generate flow: a deterministic synthetic legacy estate, for rehearsals and tests."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import date

from prefect import flow

from csa_closure.db import engine_for
from csa_closure.logs import get_logger
from csa_closure.settings import Settings
from synthetic.estate import generate_estate

log = get_logger("generate")


@flow(name="generate-estate", flow_run_name="generate-{cases}-cases-seed-{seed}", validate_parameters=False)
def generate_estate_flow(
    cases: int, seed: int = 1, extract_date: date = date(2014, 6, 30),
    progress: Callable[[int], None] | None = None, replace: bool = False,
) -> dict:
    """Write the estate into the legacy database; returns cases and malformed records per scheme.
    Overwrites a database that holds no synthetic estate only if ``replace``."""
    manifest = generate_estate(
        engine_for(Settings().legacy_url, legacy=True, writable=True), cases, seed=seed,
        extract_date=extract_date, progress=progress, replace=replace,
    )
    malformed = Counter(record.scheme for record in manifest.malformed)
    summary = {"cases": dict(manifest.cases_by_scheme), "malformed": dict(malformed)}
    log.info("estate generated", seed=seed, extract_date=extract_date.isoformat(), **summary)
    return summary
