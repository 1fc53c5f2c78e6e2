"""What the report reads from the target: small grouped frames, each one set-based query.

Every read takes an optional tranche; money is summed in the database as integer pence, so the
report never holds a row per case. Quarantine and held cases belong to the extract, not to a
tranche, and are read for the whole estate.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
from sqlalchemy import BigInteger, ColumnElement, Connection, Engine, Select, cast, distinct, func, select

from csa_closure.db import is_postgres
from load.journey import read_frame
from load.schema import (
    batch_run,
    closure_outcome,
    cms_case,
    cms_unpaid_maintenance,
    engine_run,
    extract_run,
    held_case,
    letter,
    quarantine,
    selection,
    tranche,
    write_off,
)
from transform.codes import UnitState

OUTCOME = closure_outcome.c


@contextmanager
def one_snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only connection whose reads all see the same committed state, so the report's
    figures add up even while an ``advance`` commits batches."""
    with engine.connect() as conn:
        if is_postgres(engine):
            conn = conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        else:
            conn.exec_driver_sql("BEGIN")  # SQLite's snapshot starts with the first read in it
        try:
            yield conn
        finally:
            conn.rollback()


def _pence(column: ColumnElement) -> ColumnElement:
    """A sum of pence as a whole number on both backends (PostgreSQL sums BIGINT as NUMERIC)."""
    return cast(func.sum(column), BigInteger).label("pence")


def _in_tranche(query: Select, tranche_id: str | None) -> Select:
    """``query`` (which reads ``closure_outcome``) limited to one tranche, or all of them."""
    return query.where(OUTCOME.tranche_id == tranche_id) if tranche_id else query


def tranche_known(conn: Connection, tranche_id: str) -> bool:
    return conn.execute(select(tranche.c.tranche_id).where(tranche.c.tranche_id == tranche_id)).first() is not None


def tranches(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """The schedule: ``tranche_id``, ``kind``, ``selection_date``, ``segment_group``, ``planned_cases``."""
    query = select(tranche.c.tranche_id, tranche.c.kind, tranche.c.selection_date, tranche.c.segment_group,
                   tranche.c.planned_cases).order_by(tranche.c.selection_date, tranche.c.tranche_id)
    if tranche_id:
        query = query.where(tranche.c.tranche_id == tranche_id)
    return read_frame(conn, query, dates=["selection_date"])


def cases_by_state(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """``tranche_id``, ``journey_state``, ``cases``."""
    query = select(OUTCOME.tranche_id, OUTCOME.journey_state, func.count().label("cases")).group_by(
        OUTCOME.tranche_id, OUTCOME.journey_state
    )
    return read_frame(conn, _in_tranche(query, tranche_id))


def transfers(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """What went to the CMS: ``creditor``, ``cases``, ``pence`` (from the CMS lines themselves)."""
    line = cms_unpaid_maintenance.c
    query = (
        select(line.creditor, func.count(distinct(cms_case.c.csa_case_ref)).label("cases"),
               _pence(line.amount_pence))
        .select_from(cms_unpaid_maintenance.join(cms_case).join(
            closure_outcome, OUTCOME.csa_case_ref == cms_case.c.csa_case_ref))
        .group_by(line.creditor)
    )
    return read_frame(conn, _in_tranche(query, tranche_id))


def write_offs(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """What was written off: ``reason``, ``cases``, ``pence`` (both creditors together)."""
    query = (
        select(write_off.c.reason, func.count(distinct(write_off.c.csa_case_ref)).label("cases"),
               _pence(write_off.c.amount_pence))
        .select_from(write_off.join(closure_outcome, OUTCOME.csa_case_ref == write_off.c.csa_case_ref))
        .group_by(write_off.c.reason)
    )
    return read_frame(conn, _in_tranche(query, tranche_id))


def pending(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """Money still waiting, by why it waits: ``journey_state``, ``cases``, ``pence``."""
    query = (
        select(OUTCOME.journey_state, func.count().label("cases"), _pence(OUTCOME.pending_pence))
        .where(OUTCOME.pending_pence > 0)
        .group_by(OUTCOME.journey_state)
    )
    return read_frame(conn, _in_tranche(query, tranche_id))


def holds(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """Every case on hold now or held before (its last hold's reason is kept): ``hold_reason``,
    ``journey_state``, ``cases``, ``pence`` on hold."""
    query = (
        select(OUTCOME.hold_reason, OUTCOME.journey_state, func.count().label("cases"),
               _pence(OUTCOME.on_hold_pence))
        .where(OUTCOME.hold_reason.isnot(None))
        .group_by(OUTCOME.hold_reason, OUTCOME.journey_state)
    )
    return read_frame(conn, _in_tranche(query, tranche_id))


def letters(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """``template``, ``status``, ``letters``."""
    query = (
        select(letter.c.template, letter.c.status, func.count().label("letters"))
        .select_from(letter.join(closure_outcome, OUTCOME.csa_case_ref == letter.c.csa_case_ref))
        .group_by(letter.c.template, letter.c.status)
    )
    return read_frame(conn, _in_tranche(query, tranche_id))


def quarantined_records(conn: Connection) -> pd.DataFrame:
    """The records in quarantine for each scheme's latest extract, counted by what is wrong:
    ``source_table``, ``reasons`` (the JSON list, taken apart by ``transform.report``), ``records``."""
    latest = select(extract_run.c.scheme, func.max(extract_run.c.extracted_on).label("extracted_on")).group_by(
        extract_run.c.scheme
    ).subquery()
    current_runs = select(extract_run.c.extract_run).join(
        latest, (latest.c.scheme == extract_run.c.scheme) & (latest.c.extracted_on == extract_run.c.extracted_on)
    )
    query = (
        select(quarantine.c.source_table, quarantine.c.reasons, func.count().label("records"))
        .where(quarantine.c.extract_run.in_(current_runs))
        .group_by(quarantine.c.source_table, quarantine.c.reasons)
    )
    return read_frame(conn, query)


def held_cases(conn: Connection) -> pd.DataFrame:
    """Cases held back by quarantine: ``scheme``, ``cases``."""
    query = select(held_case.c.scheme, func.count().label("cases")).group_by(held_case.c.scheme)
    return read_frame(conn, query)


def failed_units(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """Units of work whose last attempt failed: ``batch_id``, ``step``, ``due_on``, ``last_error``."""
    run = batch_run.c
    query = select(run.batch_id, run.step, run.due_on, run.last_error).where(run.state == UnitState.FAILED)
    if tranche_id:
        query = query.where((run.batch_id == tranche_id) | run.batch_id.like(f"{tranche_id}-B%"))
    return read_frame(conn, query, dates=["due_on"])


def unstarted_cases(conn: Connection, tranche_id: str | None) -> pd.DataFrame:
    """Selected cases whose journey has not started (no outcome row), by batch: ``batch_id``,
    ``cases``."""
    chosen = selection.c
    query = (
        select(chosen.batch_id, func.count().label("cases"))
        .select_from(selection.outerjoin(closure_outcome, OUTCOME.csa_case_ref == chosen.csa_case_ref))
        .where(OUTCOME.csa_case_ref.is_(None))
        .group_by(chosen.batch_id)
    )
    if tranche_id:
        query = query.where(chosen.tranche_id == tranche_id)
    return read_frame(conn, query)


def latest_runs(conn: Connection) -> pd.DataFrame:
    """The latest run of each command that records its runs (``engine_run``), latest first:
    ``command``, ``as_of``, ``started_at``, ``finished_at``, ``state``."""
    run = engine_run.c
    latest = select(run.command, func.max(run.started_at).label("started_at")).group_by(run.command).subquery()
    query = (
        select(run.command, run.as_of, run.started_at, run.finished_at, run.state)
        .select_from(
            engine_run.join(latest, (run.command == latest.c.command) & (run.started_at == latest.c.started_at))
        )
        .order_by(run.started_at.desc())
    )
    return read_frame(conn, query)
