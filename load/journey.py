"""The journey's state in the target database: what is due, a batch's rows, and its changes.

Reads return frames in the shapes ``transform.journey`` works on; ``write_changes`` writes one
step's ``JourneyChanges`` inside the caller's transaction, keyed so that writing the same
change twice leaves the tables as once (no duplicate rows, letters, events or CMS lines).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from enum import Enum

import pandas as pd
from sqlalchemy import (
    Connection,
    Text,
    and_,
    func,
    literal,
    select,
    union_all,
    update,
)

from load.frames import read_frame
from load.letters import insert_letters
from load.schema import (
    batch,
    batch_run,
    case_journey,
    closure_outcome,
    cms_arrears_instalment,
    cms_case,
    cms_unpaid_maintenance,
    held_case,
    journey_clock,
    journey_event,
    legacy_case,
    operator_event,
    selection,
    tranche,
    write_off,
)
from load.writes import append_frame, upsert_frame, upsert_rows
from transform.codes import EventStatus, JourneyState, Step, TrancheKind, UnitState
from transform.due import DUE, Due
from transform.journey import JOURNEY_COLUMNS, OUTCOME_COLUMNS, JourneyChanges

OUTCOME_DATES = ["selected_on", "liability_end_date", "choice_deadline"]
JOURNEY_DATES = [
    "reminder_on", "resolved_on", "pwc_accrued_from", "pwc_accrued_to",
    "application_received_on", "choice_received_on", "liability_end_date",
]
OUTCOME_MONEY = ["arrears_pwc_pence", "arrears_sos_pence", "cms_case_id"]
JOURNEY_MONEY = ["ledger_pwc_pence", "ledger_sos_pence", "adjust_pwc_pence", "adjust_sos_pence"]
IN_CHUNK = 5_000
"""Values per ``IN`` list: well inside SQLite's limit on bound parameters."""


# --- the clock --------------------------------------------------------------------------------


def advanced_to(conn: Connection) -> date | None:
    """The latest as-of date the engine has advanced to (None before the first advance)."""
    return conn.execute(select(journey_clock.c.advanced_to)).scalar_one_or_none()


def move_clock(conn: Connection, as_of: date) -> None:
    """The clock only moves forward: advancing to an earlier date changes nothing."""
    upsert_rows(conn, journey_clock, [{"clock_id": 1, "advanced_to": as_of}], key=["clock_id"])


# --- what is due ----------------------------------------------------------------------------


def due_work(conn: Connection, as_of: date, after: date | None = None) -> pd.DataFrame:
    """The units of work due on the earliest day after ``after`` (if given) and on or before
    ``as_of`` that has any whose last attempt did not fail: ``due_on``, ``step``,
    ``batch_id``, in step order. Failed work is left to ``rerun-failed``.

    Each kind of unit is found by a partial index on its due date, first the earliest such date,
    then that day's units: the cost is the day's work, not the journey's.
    """
    while True:
        dates = [
            _as_date(earliest) + timedelta(days=kind.days_after)
            for kind in _DUE.values()
            if (earliest := conn.execute(_earliest(kind, after, as_of)).scalar()) is not None
        ]
        if not dates:
            return _no_units()
        day = min(dates)
        units = pd.concat([read_frame(conn, kind.on(day)) for kind in _DUE.values()], ignore_index=True)
        failed = read_frame(conn, select(batch_run.c.step, batch_run.c.batch_id)
                            .where(batch_run.c.state == UnitState.FAILED, batch_run.c.due_on == day))
        keys = pd.MultiIndex.from_frame(units[["step", "batch_id"]])
        units = units[~keys.isin(pd.MultiIndex.from_frame(failed))] if len(failed) else units
        if len(units):
            order = {step: position for position, step in enumerate(Step)}
            return (units.drop_duplicates().assign(due_on=pd.Timestamp(day), position=units["step"].map(order))
                    .sort_values(["position", "batch_id"], ignore_index=True)[["due_on", "step", "batch_id"]])
        after = day


_RECORDS = {"event": operator_event, "tranche": tranche, "batch": batch, "outcome": closure_outcome,
            "journey": case_journey}
_o, _j, _e = closure_outcome.c, case_journey.c, operator_event.c
_UNITS = {
    # where each step's records are, and which batch a record's unit works
    Step.EVENTS: (operator_event.join(closure_outcome, _o.csa_case_ref == _e.csa_case_ref), _o.batch_id),
    Step.REACTIVE: (operator_event, literal(TrancheKind.REACTIVE.value, Text)),
    Step.SELECT: (tranche, tranche.c.tranche_id),
    Step.START: (batch.join(tranche, tranche.c.tranche_id == batch.c.tranche_id), batch.c.batch_id),
    Step.REMIND: (case_journey.join(closure_outcome, _o.csa_case_ref == _j.csa_case_ref), _o.batch_id),
    Step.END: (case_journey.join(closure_outcome, _o.csa_case_ref == _j.csa_case_ref), _o.batch_id),
    Step.DEADLINE: (closure_outcome, _o.batch_id),
}


class _DueKind:
    """One step's due rule (``transform.due``) as SQL: the date its units fall due from
    (``when``), the batch a unit works (``batch``) and its conditions, over ``source``."""

    def __init__(self, due: Due) -> None:
        self.step, self.days_after = due.step, due.days_after
        self.source, self.batch = _UNITS[due.step]
        self.when = _field(due.date)
        self.condition = [*(_condition(*c) for c in due.conditions), self.when.isnot(None)]

    def on(self, day: date):
        return (
            select(literal(self.step.value, Text).label("step"), self.batch.label("batch_id"))
            .select_from(self.source)
            .where(*self.condition, self.when == day - timedelta(days=self.days_after))
            .distinct()
        )


def _field(name: str):
    record, column = name.split(".")
    return _RECORDS[record].c[column]


def _condition(name: str, operator: str, value):
    field = _field(name)
    value = value.value if isinstance(value, Enum) else value
    return {"==": lambda: field == value, "!=": lambda: field != value,
            "is": lambda: field.is_(value), "is not": lambda: field.isnot(value)}[operator]()


def due_conditions(step: Step, day: date) -> list:
    """The conditions that make a case's ``step`` due on ``day``, over its outcome and journey."""
    kind = _DUE[step]
    return [*kind.condition, kind.when == day - timedelta(days=kind.days_after)]


def _earliest(kind: _DueKind, after: date | None, as_of: date):
    when = kind.when
    bounds = [when <= as_of - timedelta(days=kind.days_after)]
    if after is not None:
        bounds.append(when > after - timedelta(days=kind.days_after))
    return select(func.min(when)).select_from(kind.source).where(*kind.condition, *bounds)


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _no_units() -> pd.DataFrame:
    return pd.DataFrame({"due_on": pd.Series(dtype="datetime64[ns]"), "step": pd.Series(dtype="str"),
                         "batch_id": pd.Series(dtype="str")})


_DUE = {due.step: _DueKind(due) for due in DUE}
"""Each step's due rule as SQL, built once, in the order a day's steps run."""


# --- one batch's rows ------------------------------------------------------------------------


def batch_outcomes(conn: Connection, batch_id: str, *conditions) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``closure_outcome`` and ``case_journey`` rows of a batch (optionally filtered); the
    journeys carry each case's ``version``, for ``claim_cases``."""
    o, j = closure_outcome, case_journey
    outcomes = read_frame(
        conn,
        select(*(o.c[c if c != "case_ref" else "csa_case_ref"].label(c) for c in OUTCOME_COLUMNS))
        .join(j, j.c.csa_case_ref == o.c.csa_case_ref)
        .where(o.c.batch_id == batch_id, *conditions)
        .order_by(o.c.csa_case_ref),
        dates=OUTCOME_DATES,
        integers=OUTCOME_MONEY,
    )
    journeys = read_frame(
        conn,
        select(*(j.c[c if c != "case_ref" else "csa_case_ref"].label(c) for c in JOURNEY_COLUMNS), j.c.version)
        .where(j.c.csa_case_ref.in_(list(outcomes["case_ref"])))
        .order_by(j.c.csa_case_ref),
        dates=JOURNEY_DATES,
        integers=JOURNEY_MONEY,
    )
    return outcomes, journeys


def batch_selection(conn: Connection, batch_id: str) -> pd.DataFrame:
    """The cases a batch selected that have not started their journey yet."""
    s, o = selection, closure_outcome
    return read_frame(
        conn,
        select(
            s.c.csa_case_ref.label("case_ref"), s.c.tranche_id, s.c.batch_id, s.c.segment,
            s.c.selected_on, s.c.liability_end_date,
        )
        .outerjoin(o, o.c.csa_case_ref == s.c.csa_case_ref)
        .where(s.c.batch_id == batch_id, o.c.csa_case_ref.is_(None))
        .order_by(s.c.csa_case_ref),
        dates=["selected_on", "liability_end_date"],
    )


def accepted_events(conn: Connection, batch_id: str | None, on: date, kinds: Sequence[str]) -> pd.DataFrame:
    """Accepted operators' events received on ``on`` (for a batch's cases, or for no batch)."""
    e, o = operator_event, closure_outcome
    statement = select(
        e.c.event_id, e.c.kind, e.c.csa_case_ref.label("case_ref"), e.c.nrp_ref, e.c.pwc_ref,
        e.c.value, e.c.pwc_pence, e.c.sos_pence, e.c.channel, e.c.received_on,
    ).where(e.c.status == EventStatus.ACCEPTED, e.c.received_on == on, e.c.kind.in_(list(kinds)))
    if batch_id is not None:
        statement = statement.join(o, o.c.csa_case_ref == e.c.csa_case_ref).where(o.c.batch_id == batch_id)
    return read_frame(
        conn, statement.order_by(e.c.event_id), dates=["received_on"], integers=["pwc_pence", "sos_pence"]
    )


def mark_events_applied(conn: Connection, event_ids: Sequence[int], run_id: str) -> None:
    if event_ids:
        conn.execute(
            update(operator_event)
            .where(operator_event.c.event_id.in_(list(event_ids)), operator_event.c.status == EventStatus.ACCEPTED)
            .values(status=EventStatus.APPLIED, applied_run=run_id)
        )


def mark_events_refused(conn: Connection, events: pd.DataFrame, run_id: str) -> None:
    """Accepted events whose preconditions no longer held when a run came to apply them:
    ``events`` has ``event_id`` and ``refusal``. They stay in the audit trail, refused."""
    for event_id, refusal in zip(events["event_id"], events["refusal"]):
        conn.execute(
            update(operator_event)
            .where(operator_event.c.event_id == int(event_id), operator_event.c.status == EventStatus.ACCEPTED)
            .values(status=EventStatus.REFUSED, refusal=f"not applied: {refusal}", applied_run=run_id)
        )


def cases_given_liability_end(conn: Connection, since: date | None = None) -> pd.DataFrame:
    """Cases whose liability end date is set (and later than ``since``), which a parent may
    apply to the CMS about: ``case_ref``, ``selected_on``, ``liability_end_date``."""
    o = closure_outcome.c
    query = select(o.csa_case_ref.label("case_ref"), o.selected_on, o.liability_end_date).where(
        o.liability_end_date.isnot(None) if since is None else o.liability_end_date > since
    )
    return read_frame(conn, query, dates=["selected_on", "liability_end_date"])


def cases_awaiting_choice(conn: Connection) -> pd.DataFrame:
    """Cases whose receiving parent has the arrears choice to make: ``case_ref``,
    ``choice_deadline``."""
    o = closure_outcome.c
    query = select(o.csa_case_ref.label("case_ref"), o.choice_deadline).where(
        o.journey_state == JourneyState.AWAITING_CHOICE
    )
    return read_frame(conn, query, dates=["choice_deadline"])


# --- selection --------------------------------------------------------------------------------


def selected_case_refs(conn: Connection) -> set[str]:
    return set(conn.execute(select(selection.c.csa_case_ref)).scalars())


def record_selection(conn: Connection, chosen: pd.DataFrame, tranche_row: dict) -> None:
    """A tranche's cases and batches, written before any batch is worked; the snapshot marks
    its cases taken."""
    upsert_rows(conn, tranche, [tranche_row], key=["tranche_id"])
    batches = chosen.groupby("batch_id").size().reset_index(name="case_count")
    upsert_frame(conn, batch, batches.assign(tranche_id=tranche_row["tranche_id"]), key=["batch_id"])
    rows = chosen.rename(columns={"case_ref": "csa_case_ref"})[
        ["csa_case_ref", "tranche_id", "batch_id", "segment", "selected_on", "liability_end_date"]
    ]
    upsert_frame(conn, selection, rows, key=["csa_case_ref"], keep_on_conflict=list(rows.columns[1:]))
    _mark_selected(conn, chosen["case_ref"].tolist(), tranche_row["selection_date"])


def drop_from_selection(conn: Connection, case_refs: Sequence[str]) -> None:
    """Cases found broken when their batch re-read them: out of the tranche until clean."""
    if case_refs:
        conn.execute(selection.delete().where(selection.c.csa_case_ref.in_(list(case_refs))))
        _mark_selected(conn, list(case_refs), None)


def _mark_selected(conn: Connection, case_refs: list[str], selected_on: date | None) -> None:
    for start in range(0, len(case_refs), IN_CHUNK):
        chunk = case_refs[start : start + IN_CHUNK]
        conn.execute(update(legacy_case).where(legacy_case.c.case_ref.in_(chunk)).values(selected_on=selected_on))


def mark_batch_started(conn: Connection, batch_id: str) -> None:
    """Its cases have joined the journey (or left the tranche): the batch's start is done."""
    conn.execute(update(batch).where(batch.c.batch_id == batch_id).values(started=True))


def latest_extract_date(conn: Connection) -> date | None:
    """The newest extract date in the snapshot: from it on, a case's kept segment is its segment."""
    return conn.execute(select(func.max(legacy_case.c.extracted_on))).scalar()


def _waiting(*columns, out_of_scope: bool = False):
    """Snapshot cases no tranche has taken, not held back, and in scope (or any segment)."""
    statement = select(*columns).where(
        legacy_case.c.selected_on.is_(None),
        ~select(held_case.c.case_ref).where(held_case.c.case_ref == legacy_case.c.case_ref).exists(),
    )
    return statement if out_of_scope else statement.where(legacy_case.c.segment > 0)


def waiting_by_segment(conn: Connection) -> pd.Series:
    """How many cases wait for selection in each segment."""
    statement = _waiting(legacy_case.c.segment, func.count().label("cases")).group_by(legacy_case.c.segment)
    frame = read_frame(conn, statement)
    return pd.Series(frame["cases"].to_numpy(), index=frame["segment"].to_numpy())


def selection_candidates(conn: Connection, segments: Sequence[int], limit: int) -> pd.DataFrame:
    """The first ``limit`` waiting cases of each segment by case start date then reference:
    ``case_ref``, ``segment``, ``case_start_date`` (one index range each)."""
    c = legacy_case.c
    parts = [
        _waiting(c.case_ref, c.segment, c.case_start_date)
        .where(c.segment == segment).order_by(c.case_start_date, c.case_ref).limit(limit).subquery()
        for segment in segments
    ]
    if not parts:
        return pd.DataFrame({"case_ref": pd.Series(dtype="str"), "segment": pd.Series(dtype="int64"),
                             "case_start_date": pd.Series(dtype="datetime64[ns]")})
    statement = union_all(*(select(part.c.case_ref, part.c.segment, part.c.case_start_date) for part in parts))
    return read_frame(conn, select(*statement.subquery().c), dates=["case_start_date"])


def plannable_cases(conn: Connection) -> pd.DataFrame:
    """Every case not selected nor held, out of scope too (a plan counts them): ``case_ref``,
    ``case_start_date``, ``segment``."""
    c = legacy_case.c
    return read_frame(conn, _waiting(c.case_ref, c.case_start_date, c.segment, out_of_scope=True).order_by(c.case_ref))


def unselected_of_nrps(conn: Connection, nrp_refs: Sequence[str]) -> pd.DataFrame:
    """The not yet selected, not held snapshot cases whose paying parent is one of ``nrp_refs``."""
    statement = select(legacy_case).where(
        legacy_case.c.nrp_ref.in_(sorted(set(nrp_refs))),
        legacy_case.c.selected_on.is_(None),
        ~select(held_case.c.case_ref).where(held_case.c.case_ref == legacy_case.c.case_ref).exists(),
    ).order_by(legacy_case.c.case_ref)
    return read_frame(conn, statement)


# --- writing a step's changes -------------------------------------------------------------


def write_changes(
    conn: Connection,
    changes: JourneyChanges,
    cases: pd.DataFrame,
    letters: pd.DataFrame,
    instalments: pd.DataFrame,
    run_id: str,
) -> None:
    """Write one step of one batch: state rows, audit, write-offs, the CMS (its unpaid
    maintenance lines and their ``instalments``, by case and creditor) and letters."""
    if len(changes.outcomes):
        upsert_frame(
            conn,
            closure_outcome,
            changes.outcomes.rename(columns={"case_ref": "csa_case_ref"}).drop(columns="cms_case_id"),
            key=["csa_case_ref"],
        )
    if len(changes.journeys):
        upsert_frame(
            conn, case_journey, changes.journeys.rename(columns={"case_ref": "csa_case_ref"}),
            key=["csa_case_ref"],
        )
    append_frame(conn, journey_event, changes.events.rename(columns={"case_ref": "csa_case_ref"}).assign(run_id=run_id))
    if len(changes.write_offs):
        upsert_frame(
            conn, write_off, changes.write_offs.rename(columns={"case_ref": "csa_case_ref"}),
            key=["csa_case_ref", "creditor", "reason"], keep_on_conflict=["amount_pence", "decided_on"],
        )
    _load_cms(conn, changes, cases, instalments)
    if len(letters):
        insert_letters(conn, letters)


def _load_cms(conn: Connection, changes: JourneyChanges, cases: pd.DataFrame, instalments: pd.DataFrame) -> None:
    """Open CMS cases, attach unpaid maintenance lines and their instalments (section 9)."""
    if len(changes.cms_openings):
        outcome = changes.outcomes.set_index("case_ref")
        refs = cases.set_index("case_ref")
        openings = changes.cms_openings.drop_duplicates("case_ref")
        keyed = outcome.reindex(openings["case_ref"])
        rows = pd.DataFrame(
            {
                "csa_case_ref": openings["case_ref"].to_numpy(),
                "origin_scheme": keyed["scheme"].to_numpy(),
                "paying_parent_ref": refs["nrp_ref"].reindex(openings["case_ref"]).to_numpy(),
                "receiving_parent_ref": refs["pwc_ref"].reindex(openings["case_ref"]).to_numpy(),
                "service_type": openings["service_type"].to_numpy(),
                "opened_on": openings["opened_on"].to_numpy(dtype="datetime64[ns]"),
                "tranche_id": keyed["tranche_id"].to_numpy(),
                "batch_id": keyed["batch_id"].to_numpy(),
            }
        )
        upsert_frame(conn, cms_case, rows, key=["csa_case_ref"], keep_on_conflict=list(rows.columns[1:]))
    if len(changes.transfers):
        ids = _cms_case_ids(conn, changes.transfers["case_ref"])
        outcome = changes.outcomes.set_index("case_ref")
        lines = pd.DataFrame(
            {
                "cms_case_id": ids.reindex(changes.transfers["case_ref"]).to_numpy(),
                "creditor": changes.transfers["creditor"].to_numpy(),
                "amount_pence": changes.transfers["amount_pence"].to_numpy(),
                "origin_scheme": outcome["scheme"].reindex(changes.transfers["case_ref"]).to_numpy(),
                "accrued_from": changes.transfers["accrued_from"].to_numpy(dtype="datetime64[ns]"),
                "accrued_to": changes.transfers["accrued_to"].to_numpy(dtype="datetime64[ns]"),
                "transferred_on": changes.transfers["transferred_on"].to_numpy(dtype="datetime64[ns]"),
                "batch_id": outcome["batch_id"].reindex(changes.transfers["case_ref"]).to_numpy(),
            }
        )
        upsert_frame(
            conn, cms_unpaid_maintenance, lines, key=["cms_case_id", "creditor"],
            keep_on_conflict=list(lines.columns[2:]),
        )
        m = cms_unpaid_maintenance
        loaded = read_frame(
            conn,
            select(m.c.id.label("unpaid_maintenance_id"), m.c.cms_case_id, m.c.creditor)
            .where(m.c.cms_case_id.in_([int(i) for i in lines["cms_case_id"].unique()])),
        )
        keyed = instalments.assign(cms_case_id=ids.reindex(instalments["case_ref"]).to_numpy())
        schedule = keyed.merge(loaded, on=["cms_case_id", "creditor"])[
            ["unpaid_maintenance_id", "instalment_no", "due_on", "amount_pence"]
        ]
        upsert_frame(
            conn, cms_arrears_instalment, schedule,
            key=["unpaid_maintenance_id", "instalment_no"], keep_on_conflict=["due_on", "amount_pence"],
        )
    if len(changes.cms_openings) or len(changes.transfers):
        o = closure_outcome
        refs = list(set(changes.cms_openings["case_ref"]) | set(changes.transfers["case_ref"]))
        conn.execute(
            update(o)
            .where(
                o.c.csa_case_ref == cms_case.c.csa_case_ref,
                o.c.cms_case_id.is_(None),
                o.c.csa_case_ref.in_(refs),
            )
            .values(cms_case_id=cms_case.c.cms_case_id)
        )


def _cms_case_ids(conn: Connection, case_refs: pd.Series) -> pd.Series:
    rows = conn.execute(
        select(cms_case.c.csa_case_ref, cms_case.c.cms_case_id).where(
            cms_case.c.csa_case_ref.in_(list(case_refs.unique()))
        )
    ).all()
    return pd.Series({ref: cms_id for ref, cms_id in rows}, dtype="int64")


# --- optimistic concurrency ---------------------------------------------------------------


class StaleCases(RuntimeError):
    """Cases a unit of work read changed before it could commit (an operator's event was
    recorded meanwhile): the unit commits nothing and is planned again."""


def claim_cases(conn: Connection, versions: pd.Series) -> None:
    """Inside a unit's write transaction: check that the cases it read (``versions``: the
    version each had, by case reference) are unchanged, and raise their versions, so whatever
    read them before this commit will find them changed. Rows are locked on PostgreSQL until
    the commit; on SQLite the transaction holds the write lock already (``fence``)."""
    if versions.empty:
        return
    j = case_journey
    refs = sorted(versions.index)
    for start in range(0, len(refs), IN_CHUNK):
        chunk = refs[start : start + IN_CHUNK]
        query = select(j.c.csa_case_ref, j.c.version).where(j.c.csa_case_ref.in_(chunk)).order_by(j.c.csa_case_ref)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        current = dict(conn.execute(query).all())
        stale = [ref for ref in chunk if current.get(ref) != versions[ref]]
        if stale:
            raise StaleCases(f"{len(stale)} case(s) changed while the unit worked, first {stale[0]}")
        conn.execute(update(j).where(j.c.csa_case_ref.in_(chunk)).values(version=j.c.version + 1))


def bump_versions(conn: Connection, case_refs: Sequence[str]) -> None:
    """Mark cases changed (an operator's event was accepted for them)."""
    refs = sorted(set(case_refs))
    for start in range(0, len(refs), IN_CHUNK):
        chunk = refs[start : start + IN_CHUNK]
        conn.execute(update(case_journey).where(case_journey.c.csa_case_ref.in_(chunk))
                     .values(version=case_journey.c.version + 1))


# --- batch runs -----------------------------------------------------------------------------


def record_batch_run(conn: Connection, unit: dict, state: str, run_id: str, error: str | None = None) -> None:
    """The outcome of one unit of work; attempts count every try."""
    existing = conn.execute(
        select(batch_run.c.attempts).where(
            and_(*(batch_run.c[k] == unit[k] for k in ("batch_id", "step", "due_on")))
        )
    ).scalar_one_or_none()
    upsert_rows(
        conn,
        batch_run,
        [{**unit, "state": state, "attempts": (existing or 0) + 1, "last_error": error,
          "run_id": run_id, "updated_at": datetime.now(UTC)}],
        key=["batch_id", "step", "due_on"],
    )


def unselected_snapshot(conn: Connection) -> pd.DataFrame:
    """Every clean case not selected yet and not held back: what a selection may take."""
    return read_frame(
        conn,
        _waiting(legacy_case, out_of_scope=True).order_by(legacy_case.c.case_ref),
        dates=["case_start_date", "last_receipt_on", "extracted_on"],
    )


def planned_tranche(conn: Connection, tranche_id: str) -> dict:
    return dict(conn.execute(select(tranche).where(tranche.c.tranche_id == tranche_id)).mappings().one())


def tranche_so_far(conn: Connection, tranche_id: str) -> dict | None:
    """A tranche as recorded (with ``batches``, how many it holds), or None if there is none."""
    row = conn.execute(select(tranche).where(tranche.c.tranche_id == tranche_id)).mappings().one_or_none()
    if row is None:
        return None
    batches = conn.execute(select(func.count()).where(batch.c.tranche_id == tranche_id)).scalar_one()
    return dict(row) | {"batches": batches}


def replace_plan(conn: Connection, tranches: pd.DataFrame) -> None:
    """The planned tranches not selected yet give way to a new plan."""
    conn.execute(
        tranche.delete().where(tranche.c.kind == TrancheKind.PLANNED, tranche.c.selected_cases.is_(None))
    )
    upsert_frame(conn, tranche, tranches, key=["tranche_id"])


def continue_walk(conn: Connection, after: date, segment_group: str) -> None:
    """The next planned tranche not selected yet starts its selection from ``segment_group``,
    where the selection on ``after`` left the walk."""
    t = tranche.c
    following = (
        select(t.tranche_id)
        .where(t.kind == TrancheKind.PLANNED, t.selected_cases.is_(None), t.selection_date > after)
        .order_by(t.selection_date)
        .limit(1)
        .scalar_subquery()
    )
    conn.execute(update(tranche).where(t.tranche_id == following).values(segment_group=segment_group))


def selected_planned_tranches(conn: Connection) -> int:
    return conn.execute(
        select(func.count()).select_from(tranche).where(
            tranche.c.kind == TrancheKind.PLANNED, tranche.c.selected_cases.isnot(None)
        )
    ).scalar_one()


def tranche_schedule(conn: Connection) -> pd.DataFrame:
    return read_frame(conn, select(tranche).order_by(tranche.c.selection_date, tranche.c.tranche_id),
                      dates=["selection_date"])


def failed_work(conn: Connection, tranche_id: str | None = None) -> pd.DataFrame:
    """Units of work whose last attempt failed (of one tranche, or all): ``due_on``, ``step``,
    ``batch_id``, in the order they were due."""
    statement = select(batch_run.c.due_on, batch_run.c.step, batch_run.c.batch_id).where(
        batch_run.c.state == UnitState.FAILED
    )
    if tranche_id is not None:
        statement = statement.where(
            (batch_run.c.batch_id == tranche_id) | batch_run.c.batch_id.like(f"{tranche_id}-B%")
        )
    frame = read_frame(conn, statement, dates=["due_on"])
    order = {step: position for position, step in enumerate(Step)}
    return frame.assign(position=frame["step"].map(order)).sort_values(
        ["due_on", "position", "batch_id"], ignore_index=True
    ).drop(columns="position")


def segment_groups(conn: Connection) -> dict[str, str]:
    """Each tranche's segment group as the schedule writes it (``3,4``)."""
    return dict(conn.execute(select(tranche.c.tranche_id, tranche.c.segment_group)).all())


def tranches_worked(conn: Connection, run_id: str) -> list[str]:
    """The tranches whose units of work a run touched, in order."""
    batches = conn.execute(select(batch_run.c.batch_id).where(batch_run.c.run_id == run_id).distinct()).scalars()
    return sorted({batch_id.split("-B")[0] for batch_id in batches})
