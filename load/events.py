"""Reads and writes of operators' events: where the journey stands, and ``operator_event`` rows.

Every function runs inside the caller's transaction, so an event is validated against the state
it is stored on.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime

import pandas as pd
from sqlalchemy import ColumnElement, Connection, Select, insert, select, update

from load.schema import case_journey, closure_outcome, journey_clock, legacy_case, operator_event
from load.writes import frame_records
from transform.codes import EventKind

CHUNK = 5_000
"""References per ``IN`` list: well inside SQLite's limit on bound parameters."""


def lock_journey_clock(conn: Connection) -> date | None:
    """The date the journey has advanced to (None before the first ``advance``), held still.

    A no-op update takes the clock's write lock on both backends, so ``advance`` cannot move
    the clock, nor apply events, between this transaction's checks and its writes.
    """
    conn.execute(update(journey_clock).values(advanced_to=journey_clock.c.advanced_to))
    return conn.execute(select(journey_clock.c.advanced_to)).scalar_one_or_none()


def lock_cases(conn: Connection, case_refs: Iterable[str]) -> None:
    """Hold the cases' journey rows until this transaction ends (PostgreSQL; SQLite's write
    lock, taken by ``lock_journey_clock``, holds the whole database): a unit of work under way
    commits before the cases are read here, or finds them changed when it tries."""
    if conn.dialect.name != "postgresql":
        return
    journey = case_journey.c
    query = select(journey.csa_case_ref).order_by(journey.csa_case_ref).with_for_update()
    _read_in(conn, query, journey.csa_case_ref, case_refs)


def read_case_states(conn: Connection, case_refs: Iterable[str]) -> pd.DataFrame:
    """The selected cases among ``case_refs``: journey state, windows, and figures for holds.

    Columns: ``case_ref``, ``journey_state``, ``selected_on``, ``liability_end_date``,
    ``choice_deadline``, ``liability_ended``, ``extended``, ``application_received_on``,
    ``choice_received_on``, ``ledger_pwc_pence``, ``ledger_sos_pence``,
    ``recorded_pwc_pence``, ``recorded_sos_pence`` (dates as datetime64, NaT for none).
    """
    outcome, journey, legacy = closure_outcome.c, case_journey.c, legacy_case.c
    query = (
        select(
            outcome.csa_case_ref.label("case_ref"),
            outcome.journey_state,
            outcome.selected_on,
            outcome.liability_end_date,
            outcome.choice_deadline,
            journey.liability_ended,
            journey.extended,
            journey.application_received_on,
            journey.choice_received_on,
            journey.ledger_pwc_pence,
            journey.ledger_sos_pence,
            (legacy.recorded_total_pence - legacy.recorded_sos_pence).label("recorded_pwc_pence"),
            legacy.recorded_sos_pence,
        )
        .select_from(
            closure_outcome.outerjoin(case_journey, journey.csa_case_ref == outcome.csa_case_ref)
            .outerjoin(legacy_case, legacy.case_ref == outcome.csa_case_ref)
        )
    )
    frame = _read_in(conn, query, outcome.csa_case_ref, case_refs)
    return _as_dates(
        frame,
        [
            "selected_on", "liability_end_date", "choice_deadline", "application_received_on",
            "choice_received_on",
        ],
    )


def read_known_nrps(conn: Connection, nrp_refs: Iterable[str]) -> frozenset[str]:
    """Those of ``nrp_refs`` that are the paying parent of a case in the latest extract."""
    query = select(legacy_case.c.nrp_ref).distinct()
    return frozenset(_read_in(conn, query, legacy_case.c.nrp_ref, nrp_refs)["nrp_ref"])


def read_recorded_events(
    conn: Connection, case_refs: Iterable[str], nrp_refs: Iterable[str], columns: Iterable[str]
) -> pd.DataFrame:
    """Every event recorded (whatever its status) against ``case_refs`` or naming ``nrp_refs``,
    as its ``columns`` (``received_on`` as datetime64)."""
    query = select(*(operator_event.c[name] for name in columns))
    by_case = _read_in(conn, query, operator_event.c.csa_case_ref, case_refs)
    by_nrp = _read_in(conn, query.where(operator_event.c.kind == EventKind.NEW_APPLICATION),
                      operator_event.c.nrp_ref, nrp_refs)
    return _as_dates(pd.concat([by_case, by_nrp], ignore_index=True), ["received_on"])


def insert_operator_events(conn: Connection, rows: pd.DataFrame, recorded_at: datetime) -> None:
    """Append events to ``operator_event``, stamped with when they were recorded (UTC)."""
    if not rows.empty:
        records = [record | {"recorded_at": recorded_at} for record in frame_records(rows)]
        conn.execute(insert(operator_event), records)


def _read_in(
    conn: Connection, query: Select, column: ColumnElement, values: Iterable[str]
) -> pd.DataFrame:
    """``query`` restricted to rows whose ``column`` is one of ``values``, in chunks."""
    wanted = sorted(set(values))
    rows = [
        row
        for at in range(0, len(wanted), CHUNK)
        for row in conn.execute(query.where(column.in_(wanted[at : at + CHUNK])))
    ]
    return pd.DataFrame(rows, columns=[c.name for c in query.selected_columns])


def _as_dates(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Dates as the canonical model holds them: datetime64 at midnight, NaT for none."""
    return frame.assign(**{c: pd.to_datetime(frame[c]).astype("datetime64[ns]") for c in columns})
