"""What the forecast reads from the target: the cases not closed yet and where each stands.

Reads only; the forecast writes nothing. The cases not closed yet are those of the clean
snapshot (``legacy_case``) that are not held back and either not selected, or selected and not
``CLOSED``: the unselected ones come from ``load.journey.unselected_snapshot``, the others
from the selection and the journey's own rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd
from sqlalchemy import Connection, func, select

from load.journey import advanced_to, batch_outcomes, read_frame
from load.schema import closure_outcome, held_case, legacy_case, selection, tranche
from transform.codes import JourneyState, TrancheKind


def _in_snapshot(case_ref):
    """The case is in the clean snapshot and not held back by quarantine."""
    clean = select(legacy_case.c.case_ref).where(legacy_case.c.case_ref == case_ref).exists()
    held = select(held_case.c.case_ref).where(held_case.c.case_ref == case_ref).exists()
    return clean & ~held


def journey_dates(conn: Connection) -> tuple[date | None, date | None]:
    """The date the journey has advanced to, and the latest extract date of the snapshot."""
    latest = conn.execute(select(func.max(legacy_case.c.extracted_on))).scalar_one_or_none()
    return advanced_to(conn), pd.Timestamp(latest).date() if latest is not None else None


def selections_not_started(conn: Connection) -> pd.DataFrame:
    """Recorded selections whose batch has not started them (no ``closure_outcome`` yet)."""
    s = selection.c
    started = select(closure_outcome.c.csa_case_ref).where(closure_outcome.c.csa_case_ref == s.csa_case_ref)
    return read_frame(
        conn,
        select(
            s.csa_case_ref.label("case_ref"), s.segment, s.selected_on, s.liability_end_date,
            s.tranche_id, s.batch_id,
        )
        .where(~started.exists(), _in_snapshot(s.csa_case_ref))
        .order_by(s.csa_case_ref),
        dates=["selected_on", "liability_end_date"],
    )


def _open():
    o = closure_outcome.c
    return (o.journey_state != JourneyState.CLOSED.value) & _in_snapshot(o.csa_case_ref)


def open_journey_batches(conn: Connection) -> pd.DataFrame:
    """The journey batches holding started cases not closed yet: ``batch_id``, ``cases``, in the
    order their liabilities end."""
    o = closure_outcome.c
    return read_frame(
        conn,
        select(o.batch_id, func.count().label("cases"))
        .where(_open())
        .group_by(o.batch_id)
        .order_by(func.min(o.liability_end_date), o.batch_id),
    )


def open_outcomes(conn: Connection, batch_ids: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``closure_outcome`` and ``case_journey`` rows of the open cases of journey batches."""
    rows = [batch_outcomes(conn, batch_id, _open()) for batch_id in batch_ids]
    return tuple(pd.concat(frames, ignore_index=True) for frames in zip(*rows))


def planned_selection_dates(conn: Connection) -> pd.Series:
    """The selection dates of the planned tranches not selected yet."""
    t = tranche.c
    frame = read_frame(
        conn,
        select(t.selection_date).where(t.kind == TrancheKind.PLANNED, t.selected_cases.is_(None)),
        dates=["selection_date"],
    )
    return frame["selection_date"]


def held_back_cases(conn: Connection) -> int:
    """Cases of the snapshot's estate held back by quarantine: the forecast leaves them out."""
    return conn.execute(select(func.count()).select_from(held_case)).scalar_one()


def case_keys(conn: Connection, case_refs: Sequence[str]) -> pd.DataFrame:
    """``case_ref``, ``scheme`` and ``legacy_case_id`` of named cases: how to re-read them."""
    c = legacy_case.c
    return read_frame(
        conn,
        select(c.case_ref, c.scheme, c.legacy_case_id).where(c.case_ref.in_(list(case_refs))).order_by(c.case_ref),
    )
