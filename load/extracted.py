"""Records what an extract run found: the clean case snapshot, held cases and quarantine.

Each batch is written in one transaction and keyed by business key, so extracting the same
records again changes nothing but ``last_seen`` of what is still broken.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pandas as pd
from sqlalchemy import Connection, Engine, Table, func, select, update

from extract.batches import ExtractedBatch, QuarantineRecord, quarantine_rows
from load.schema import extract_run, held_case, legacy_case, quarantine, selection
from load.writes import delete_where_in, replace_frame, upsert_rows

SNAPSHOT_COLUMNS = [column.name for column in legacy_case.columns]


def extract_run_id(scheme: str, extracted_on: date) -> str:
    """One run per scheme and extract date: rerunning the same extract reuses its id."""
    return f"{scheme}-{extracted_on:%Y%m%d}"


def recorded_extracts(target: Engine, segment_rules: str) -> dict[str, date]:
    """The latest extract date of each scheme whose extract run finished and classified its
    cases by ``segment_rules`` (a snapshot classified by other rules is as good as none)."""
    with target.connect() as conn:
        rows = conn.execute(
            select(extract_run.c.scheme, func.max(extract_run.c.extracted_on))
            .where(extract_run.c.finished_at.isnot(None), extract_run.c.segment_rules == segment_rules)
            .group_by(extract_run.c.scheme)
        ).all()
    return dict(rows)


def start_extract_run(target: Engine, scheme: str, extracted_on: date, segment_rules: str) -> str:
    run = extract_run_id(scheme, extracted_on)
    with target.begin() as conn:
        upsert_rows(
            conn,
            extract_run,
            [
                {
                    "extract_run": run,
                    "scheme": scheme,
                    "extracted_on": extracted_on,
                    "started_at": datetime.now(UTC),
                    "finished_at": None,
                    "cases_extracted": 0,
                    "cases_clean": 0,
                    "cases_held": 0,
                    "records_quarantined": 0,
                    "segment_rules": segment_rules,
                }
            ],
            key=["extract_run"],
        )
    return run


def record_quarantine(conn: Connection, records: list[QuarantineRecord], run: str, seen_on: date) -> None:
    """Quarantine records; one seen before keeps its ``first_seen`` and moves ``last_seen``."""
    upsert_rows(conn, quarantine, quarantine_rows(records, run, seen_on),
                key=["source_table", "source_key"], keep_on_conflict=["first_seen"])


def record_batch(target: Engine, batch: ExtractedBatch, kept: pd.DataFrame, run: str,
                 extracted_on: date) -> None:
    """One batch, one transaction: snapshot the clean cases, hold back the others. ``kept``:
    each clean case's ``last_receipt_on`` and ``segment``; a case a tranche took stays marked."""
    held = [
        {"case_ref": ref, "scheme": batch.scheme, "extract_run": run, "held_since": extracted_on}
        for ref in batch.held_case_refs
    ]
    with target.begin() as conn:
        refs = batch.cases["case_ref"].tolist()
        selected = pd.Series(dict(conn.execute(
            select(selection.c.csa_case_ref, selection.c.selected_on).where(selection.c.csa_case_ref.in_(refs))
        ).all()), dtype="datetime64[ns]") if refs else pd.Series(dtype="datetime64[ns]")
        by_case = kept.set_index("case_ref")
        snapshot = batch.cases.assign(
            last_receipt_on=by_case["last_receipt_on"].reindex(batch.cases["case_ref"]).to_numpy(),
            segment=by_case["segment"].reindex(batch.cases["case_ref"]).to_numpy(),
            selected_on=selected.reindex(batch.cases["case_ref"]).to_numpy(dtype="datetime64[ns]"),
            extract_run=run,
        )[SNAPSHOT_COLUMNS]
        record_quarantine(conn, batch.quarantined, run, extracted_on)
        delete_where_in(conn, held_case, "case_ref", list(batch.cases["case_ref"]))
        upsert_rows(conn, held_case, held, key=["case_ref"], keep_on_conflict=["held_since"])
        replace_frame(conn, legacy_case, snapshot, key="case_ref")


def count_where(conn: Connection, table: Table, **values: object) -> int:
    """How many of ``table``'s rows hold ``values``: an extract's counts come from the tables."""
    matching = (table.c[name] == value for name, value in values.items())
    return conn.execute(select(func.count()).select_from(table).where(*matching)).scalar_one()


def finish_extract_run(target: Engine, run: str, cases_extracted: int) -> dict[str, int]:
    """Close the run with its counts, taken from the tables so a rerun counts the same."""
    with target.begin() as conn:
        counts = {
            "cases_extracted": cases_extracted,
            "cases_clean": count_where(conn, legacy_case, extract_run=run),
            "cases_held": count_where(conn, held_case, extract_run=run),
            "records_quarantined": count_where(conn, quarantine, extract_run=run),
        }
        conn.execute(
            update(extract_run)
            .where(extract_run.c.extract_run == run)
            .values(finished_at=datetime.now(UTC), **counts)
        )
    return counts
