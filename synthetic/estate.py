"""The deterministic synthetic legacy estate: both schemes, written chunk by chunk.

Chunk k of an estate is drawn from generators seeded with (seed, k) alone, so the same seed,
size and extract date give the same rows on any backend, and memory stays at one chunk
whatever the size. Reference numbers run on from chunk to chunk.

An estate is generated over a legacy database only where that is safe to lose: an empty one,
or an earlier synthetic estate, which the table ``synthetic_estate`` marks. Any other database
is replaced only when the operator says so (``replace``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import numpy as np
from sqlalchemy import Column, Date, DateTime, Engine, Integer, MetaData, Table, insert, inspect, text

from csa_closure.db import is_postgres
from csa_closure.refusal import Refusal
from extract.legacy_schema import legacy_metadata
from extract.legacy_system import LegacySystem
from synthetic import shape
from synthetic.build import draw_scheme
from synthetic.dates import day_number
from synthetic.malformed import MalformedRecord, spoil_chunk
from synthetic.schemes import WRITERS, Numbering, SchemeTables
from synthetic.writer import open_writer

synthetic_estate = Table(
    "synthetic_estate",
    MetaData(),
    Column("seed", Integer, nullable=False),
    Column("cases", Integer, nullable=False),
    Column("extract_date", Date, nullable=False),
    Column("generated_at", DateTime(timezone=True), nullable=False),
)
"""The mark of a generated estate (not a legacy table): one row, written before its cases."""


@dataclass
class EstateManifest:
    """What was generated: cases per scheme ('1993', '2003'), rows per legacy table (added
    malformed records included) and every reason a malformed record should be quarantined."""

    seed: int
    extract_date: date
    cases_by_scheme: dict[str, int] = field(default_factory=lambda: {system.scheme: 0 for system, _ in WRITERS})
    rows_by_table: dict[str, int] = field(default_factory=dict)
    malformed: list[MalformedRecord] = field(default_factory=list)


def generate_estate(
    engine: Engine,
    cases: int,
    seed: int = 1,
    extract_date: date = date(2014, 6, 30),
    progress: Callable[[int], None] | None = None,
    replace: bool = False,
) -> EstateManifest:
    """Drop and re-create the ten legacy tables and fill them with ``cases`` cases extracted on
    ``extract_date``; ``progress`` hears the number of cases written after each chunk. A
    database that holds tables but no synthetic estate is refused unless ``replace``."""
    _check(cases, seed, extract_date)
    if not replace:
        _refuse_foreign_database(engine)
    _recreate_tables(engine, cases, seed, extract_date)
    manifest = EstateManifest(seed, extract_date)
    manifest.rows_by_table = {table.name: 0 for table in legacy_metadata.sorted_tables}
    manifest.rows_by_table.update({system.extract_table.name: 1 for system, _ in WRITERS})
    extract_day = day_number(extract_date)
    numbering = Numbering()
    writer = open_writer(engine)
    try:
        written = 0
        for chunk, size in enumerate(_chunk_sizes(cases)):
            tables = list(_draw_chunk(seed, chunk, size, extract_day, numbering, manifest))
            writer.write(rows for scheme in tables for rows in scheme.all())
            for scheme in tables:
                for rows in scheme.all():
                    manifest.rows_by_table[rows.table.name] += len(rows)
            written += size
            if progress:
                progress(written)
    finally:
        writer.close()
    _finish(engine)
    return manifest


def _check(cases: int, seed: int, extract_date: date) -> None:
    if cases < 1:
        raise ValueError("an estate needs at least one case")
    if seed < 0:
        raise ValueError("the seed must not be negative")
    earliest = shape.CS2_FIRST_START + timedelta(days=shape.YOUNGEST_CASE_DAYS)
    if extract_date < earliest:
        raise ValueError(f"the extract date must be on or after {earliest.isoformat()}")


def _chunk_sizes(cases: int) -> Iterator[int]:
    for first in range(0, cases, shape.CHUNK_CASES):
        yield min(shape.CHUNK_CASES, cases - first)


def _draw_chunk(
    seed: int, chunk: int, size: int, extract_day: int, numbering: Numbering, manifest: EstateManifest
) -> Iterator[SchemeTables]:
    """Both schemes' rows of one chunk, malformed records included and listed in the manifest."""
    cscs_cases = int(np.random.default_rng([seed, chunk]).binomial(size, shape.CSCS_SHARE))
    for (system, to_tables), count in zip(WRITERS, (cscs_cases, size - cscs_cases), strict=True):
        if count == 0:
            continue
        rng = np.random.default_rng([seed, chunk, int(system.scheme)])
        clean = to_tables(draw_scheme(rng, count, system.scheme, extract_day), numbering)
        tables, records = spoil_chunk(clean, rng, numbering)
        manifest.cases_by_scheme[system.scheme] += count
        manifest.malformed += records
        yield tables


def _refuse_foreign_database(engine: Engine) -> None:
    tables = inspect(engine).get_table_names()
    if tables and synthetic_estate.name not in tables:
        raise Refusal(
            f"the legacy database {engine.url.database} holds {len(tables)} tables and no synthetic "
            "estate: give --replace to overwrite it"
        )


def _recreate_tables(engine: Engine, cases: int, seed: int, extract_date: date) -> None:
    legacy_metadata.drop_all(engine)
    legacy_metadata.create_all(engine)
    synthetic_estate.drop(engine, checkfirst=True)
    synthetic_estate.create(engine)
    with engine.begin() as connection:
        connection.execute(
            synthetic_estate.insert(),
            {"seed": seed, "cases": cases, "extract_date": extract_date, "generated_at": datetime.now(UTC)},
        )
        for system, _ in WRITERS:
            extracted_on = {system.extract_column: _extract_day(system, extract_date)}
            connection.execute(insert(system.extract_table), extracted_on)


def _extract_day(system: LegacySystem, extract_date: date) -> date | str:
    """The extract date as the system's extract table holds it: a date, or text in its format."""
    if isinstance(system.extract_table.c[system.extract_column].type, Date):
        return extract_date
    return extract_date.strftime(system.date_format)


def _finish(engine: Engine) -> None:
    """Index ledger lines by case (built once, after loading) and refresh planner statistics."""
    with engine.begin() as connection:
        connection.execute(text("CREATE INDEX ix_cs2_txn_case_id ON cs2_txn (case_id)"))
        if is_postgres(engine):
            connection.execute(text("ANALYZE"))
