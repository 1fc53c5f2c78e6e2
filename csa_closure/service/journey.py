"""One unit of journey work: read a batch's state, apply the rulebook step, write it at once.

Each function here wires ``load``/``extract`` reads to a pure ``transform.journey`` step and
writes the result in one transaction. They hold no rules of their own (which cases a step works
on a day is ``transform.due``, read through ``load.journey.due_conditions``); the advance flow
runs each as a Prefect task per batch and date.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlalchemy import Connection, Engine, select

from csa_closure.locks import Lease, fenced
from csa_closure.service.reconcile import require_reconciled
from csa_closure.settings import RuleSettings
from csa_closure.text import is_in
from extract.batches import CaseKeys, KnownDuplicates, extract_date, read_batch
from extract.systems import system_of
from load.events import read_case_states
from load.extracted import extract_run_id, record_quarantine
from load.journey import (
    accepted_events,
    batch_outcomes,
    batch_selection,
    claim_cases,
    continue_walk,
    drop_from_selection,
    due_conditions,
    latest_extract_date,
    mark_batch_started,
    mark_events_applied,
    mark_events_refused,
    planned_tranche,
    read_frame,
    record_batch_run,
    record_selection,
    selection_candidates,
    tranche_so_far,
    unselected_of_nrps,
    unselected_snapshot,
    waiting_by_segment,
    write_changes,
)
from load.schema import closure_outcome, legacy_case
from transform.codes import EventKind, Step, UnitState
from transform.events import refusals_when_applied
from transform.instalments import instalment_schedule
from transform.journey import (
    EVENT_ORDER,
    JourneyChanges,
    apply_events,
    end_liability,
    send_reminders,
    settle_choices,
    start_journeys,
)
from transform.letters import TEMPLATE_VERSION, personalise
from transform.segments import classify_segments
from transform.tranches import (
    batch_ids,
    choose_for_tranche,
    plan_tranches,
    reactive_closures,
    reactive_tranche,
    reactive_tranche_id,
    segments_to_take,
)

NO_DUPLICATES = KnownDuplicates(frozenset(), frozenset())
SNAPSHOT_DATES = ["case_start_date", "last_receipt_on", "extracted_on"]
NOTHING_READ = pd.DataFrame({"case_ref": pd.Series(dtype="str"), "version": pd.Series(dtype="int64")})
"""What a unit that starts new journeys read of existing ones: nothing to find changed."""


@dataclass(frozen=True)
class Engines:
    legacy: Engine
    target: Engine
    rules: RuleSettings
    run_id: str
    lease: Lease | None = None
    """The journey lock's lease the run holds: every write is fenced by it."""
    unit: dict | None = None
    """The unit of work (``batch_id``, ``step``, ``due_on``) these engines serve, if any: its
    completion is recorded in ``batch_run`` in the same transaction as its writes."""


@contextmanager
def _writes(engines: Engines) -> Iterator[Connection]:
    """A unit's one write transaction, fenced by the run's lease. The unit's completion commits
    with its writes, so no interruption can leave work done and not recorded, or the reverse."""
    with fenced(engines.target, engines.lease) as conn:
        yield conn
        if engines.unit is not None:
            record_batch_run(conn, engines.unit, UnitState.COMPLETED, engines.run_id)


def _nothing_to_write(engines: Engines, counts: dict) -> dict:
    """A unit that found nothing to change: it still records that it ran."""
    with _writes(engines):
        return counts


@dataclass(frozen=True)
class LegacyCases:
    """Canonical cases and ledger of named cases, read fresh from the legacy systems."""

    cases: pd.DataFrame
    ledger: pd.DataFrame


def snapshot_cases(engines: Engines, case_refs: list[str]) -> pd.DataFrame:
    """The cases' latest clean snapshot: flags and references, no ledger."""
    with engines.target.connect() as conn:
        frame = read_frame(
            conn,
            select(legacy_case).where(legacy_case.c.case_ref.in_(case_refs)),
            dates=SNAPSHOT_DATES,
        )
    return frame


def read_legacy_cases(engines: Engines, label: str, case_refs: list[str]) -> LegacyCases:
    """Re-read named cases from their legacy systems, validating them as the extract does; the
    broken ones are quarantined and left out."""
    snapshot = snapshot_cases(engines, case_refs)
    cases, ledgers = [], []
    for scheme, of_scheme in snapshot.groupby("scheme"):
        system = system_of(scheme)
        extracted_on = extract_date(engines.legacy, system)
        keys = of_scheme[system.snapshot_key_column].tolist()
        extracted = read_batch(
            engines.legacy, system, CaseKeys(label, tuple(keys)), NO_DUPLICATES, extracted_on
        )
        cases.append(extracted.cases)
        ledgers.append(extracted.ledger)
        if extracted.quarantined:
            with engines.target.begin() as conn:
                record_quarantine(
                    conn, extracted.quarantined, extract_run_id(scheme, extracted_on), extracted_on
                )
    return LegacyCases(
        cases=pd.concat(cases, ignore_index=True) if cases else snapshot.iloc[0:0],
        ledger=pd.concat(ledgers, ignore_index=True) if ledgers else pd.DataFrame(),
    )


def _letters_with_bodies(changes: JourneyChanges, cases: pd.DataFrame) -> pd.DataFrame:
    """Every letter the step created, with the values that fill it for its recipient
    (safeguarding decides what those are); the text is rendered when it is printed."""
    letters = changes.letters
    if letters.empty:
        return letters
    of_letters = cases[is_in(cases["case_ref"], letters["case_ref"])]
    services = changes.cms_openings.drop_duplicates("case_ref").set_index("case_ref")["service_type"]
    context = changes.outcomes.merge(
        of_letters[["case_ref", "nrp_ref", "pwc_ref", "dv_marker"]], on="case_ref"
    ).assign(cms_service_type=lambda c: services.reindex(c["case_ref"]).to_numpy(dtype=object))
    return letters.assign(body=personalise(letters, context), template_version=TEMPLATE_VERSION)


def _commit(
    engines: Engines,
    changes: JourneyChanges,
    cases: pd.DataFrame,
    read: pd.DataFrame,
    event_ids=(),
    refused: pd.DataFrame | None = None,
    started: str | None = None,
    dropped: list[str] | None = None,
) -> dict:
    """Write a step's changes in one transaction that commits only while the run holds the
    journey, if the cases it ``read`` (their journeys, with ``version``) are unchanged, and if
    its batch reconciles."""
    letters = _letters_with_bodies(changes, cases)
    with _writes(engines) as conn:
        claim_cases(conn, _versions(read))
        write_changes(conn, changes, cases, letters, instalment_schedule(changes.transfers[
            ["case_ref", "creditor", "amount_pence", "transferred_on"]], engines.rules), engines.run_id)
        mark_events_applied(conn, list(event_ids), engines.run_id)
        if refused is not None:
            mark_events_refused(conn, refused, engines.run_id)
        if started is not None:
            drop_from_selection(conn, dropped or [])
            mark_batch_started(conn, started)
        for batch_id, changed in changes.outcomes.groupby("batch_id")["case_ref"]:
            require_reconciled(conn, batch_id, changed.tolist())
    return {
        "cases": len(changes.outcomes),
        "letters": len(letters),
        "write_offs": len(changes.write_offs),
        "transfers": len(changes.transfers),
    }


def _versions(journeys: pd.DataFrame) -> pd.Series:
    return journeys.set_index("case_ref")["version"] if len(journeys) else pd.Series(dtype="int64")


def start_batch(engines: Engines, batch_id: str, selected_on: date) -> dict:
    """Selected cases of a batch join the journey (verification, notices, segment 6 decided)."""
    with engines.target.connect() as conn:
        chosen = batch_selection(conn, batch_id)
    legacy = read_legacy_cases(engines, batch_id, list(chosen["case_ref"]))
    unreadable = chosen.loc[~is_in(chosen["case_ref"], legacy.cases["case_ref"]), "case_ref"]
    chosen = chosen[is_in(chosen["case_ref"], legacy.cases["case_ref"])]
    if chosen.empty:
        with _writes(engines) as conn:
            drop_from_selection(conn, list(unreadable))
            mark_batch_started(conn, batch_id)
        return {"cases": 0, "dropped": len(unreadable)}
    changes = start_journeys(chosen, legacy.cases, legacy.ledger, engines.rules)
    return _commit(engines, changes, legacy.cases, NOTHING_READ, started=batch_id, dropped=list(unreadable)) | {
        "dropped": len(unreadable)
    }


def _due_cases(engines: Engines, step: Step, batch_id: str, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The outcomes and journeys of the batch's cases whose ``step`` falls due on ``day``."""
    with engines.target.connect() as conn:
        return batch_outcomes(conn, batch_id, *due_conditions(step, day))


def remind_batch(engines: Engines, batch_id: str, due_on: date) -> dict:
    """Reminder letters for the batch's cases whose reminder falls on ``due_on``."""
    outcomes, journeys = _due_cases(engines, Step.REMIND, batch_id, due_on)
    if outcomes.empty:
        return _nothing_to_write(engines, {"cases": 0})
    cases = snapshot_cases(engines, list(outcomes["case_ref"]))
    return _commit(engines, send_reminders(outcomes, journeys, cases), cases, journeys)


def end_batch(engines: Engines, batch_id: str, ends_on: date) -> dict:
    """Liability ends for the batch's cases: re-verified from a fresh read, then decided."""
    outcomes, journeys = _due_cases(engines, Step.END, batch_id, ends_on)
    if outcomes.empty:
        return _nothing_to_write(engines, {"cases": 0})
    legacy = read_legacy_cases(engines, batch_id, list(outcomes["case_ref"]))
    cases = _with_snapshot_fallback(engines, legacy, outcomes)
    changes = end_liability(
        outcomes, journeys, cases, legacy.ledger, pd.Timestamp(ends_on), engines.rules
    )
    return _commit(engines, changes, cases, journeys)


def _with_snapshot_fallback(engines: Engines, legacy: LegacyCases, outcomes: pd.DataFrame) -> pd.DataFrame:
    """Cases a later extract broke keep their snapshot: liability still ends on time."""
    missing = outcomes.loc[~is_in(outcomes["case_ref"], legacy.cases["case_ref"]), "case_ref"]
    if missing.empty:
        return legacy.cases
    snapshot = snapshot_cases(engines, list(missing))[legacy.cases.columns]
    return pd.concat([legacy.cases, snapshot], ignore_index=True)


def lapse_batch(engines: Engines, batch_id: str, due_on: date) -> dict:
    """No answer by the deadline: the PWC part is written off the day after (section 7)."""
    outcomes, journeys = _due_cases(engines, Step.DEADLINE, batch_id, due_on)
    if outcomes.empty:
        return _nothing_to_write(engines, {"cases": 0})
    cases = snapshot_cases(engines, list(outcomes["case_ref"]))
    no_answers = pd.DataFrame(columns=["case_ref", "choice", "received_on", "channel"])
    changes = settle_choices(outcomes, journeys, cases, no_answers, pd.Timestamp(due_on))
    return _commit(engines, changes, cases, journeys)


def apply_batch_events(engines: Engines, batch_id: str, received_on: date, as_of: date) -> dict:
    """Operators' events for the batch's cases received on one day, applied in one change.

    Each event is checked again against the cases as they stand now (the journey may have moved
    since it was recorded): one whose preconditions no longer hold is refused, with the reason,
    and changes nothing."""
    with engines.target.connect() as conn:
        events = accepted_events(conn, batch_id, received_on, EVENT_ORDER)
        outcomes, journeys = batch_outcomes(
            conn, batch_id, closure_outcome.c.csa_case_ref.in_(list(events["case_ref"]))
        )
        states = read_case_states(conn, events["case_ref"])
    if events.empty:
        return _nothing_to_write(engines, {"events": 0})
    refusal = refusals_when_applied(events, states, pd.Timestamp(received_on), engines.rules)
    refused = events.assign(refusal=refusal)[refusal.notna()]
    events = events[refusal.isna()]
    cases = snapshot_cases(engines, list(outcomes["case_ref"]))
    held = LegacyCases(cases.iloc[0:0], pd.DataFrame())
    resolved = events.loc[events["kind"] == EventKind.HOLD_RESOLUTION, "case_ref"]
    if len(resolved):
        legacy = read_legacy_cases(engines, batch_id, list(resolved))
        held = LegacyCases(_with_snapshot_fallback(engines, legacy, outcomes[is_in(outcomes["case_ref"], resolved)]),
                           legacy.ledger)
    changes = apply_events(outcomes, journeys, cases, events, held.cases, held.ledger, pd.Timestamp(as_of),
                           engines.rules)
    counts = _commit(
        engines, changes, cases, journeys, event_ids=events["event_id"].tolist(), refused=refused
    )
    return counts | {"events": len(events), "refused": len(refused)}


def _group_position(segment_group: str, rules: RuleSettings) -> int:
    segments = tuple(int(part) for part in segment_group.split(","))
    return rules.segment_groups.index(segments)


def group_label(position: int, rules: RuleSettings) -> str:
    """How a segment group is written in the schedule: its segments, e.g. ``3,4``."""
    return ",".join(str(segment) for segment in rules.segment_groups[position])


def select_tranche(engines: Engines, tranche_id: str) -> dict:
    """A planned tranche's selection on its date: the unselected cases in their segments as of
    that date, the earlier groups' first, then the current group's, up to capacity (section 2).

    The walk's current group is the tranche's as the walk left it: the plan's for its first
    tranche, then the group the previous selection took from, so a group that a newer extract
    made larger or smaller than planned is walked as it now is, not as it was planned."""
    with engines.target.connect() as conn:
        planned = planned_tranche(conn, tranche_id)
    if planned["selected_cases"] is not None:  # a retry after the selection committed
        return _nothing_to_write(engines, {"cases": planned["selected_cases"], "batches": 0})
    selected_on = pd.Timestamp(planned["selection_date"])
    rules = engines.rules.model_copy(update={"tranche_capacity": planned["capacity"]})
    position = _group_position(planned["segment_group"], rules)
    with engines.target.connect() as conn:
        if _segments_kept_on(conn, selected_on):
            take = segments_to_take(waiting_by_segment(conn), position, rules)
            candidates = selection_candidates(conn, take.segments, rules.tranche_capacity)
            chosen = choose_for_tranche(candidates, take, rules.tranche_capacity)[["case_ref", "segment"]]
            current = rules.segment_groups.index(take.current)
        else:
            unselected = unselected_snapshot(conn)
            segments = classify_segments(unselected, selected_on, rules)
            walk = plan_tranches(
                unselected[["case_ref", "case_start_date"]], lambda _on: segments, selected_on,
                selected_on, rules, current_group=position,
            )
            chosen = walk.selections[["case_ref", "segment"]]
            current = int(walk.tranches["segment_group"].iloc[0]) if len(walk.tranches) else position
    chosen = chosen.assign(selected_on=selected_on, tranche_id=tranche_id, liability_end_date=pd.NaT)
    chosen = chosen.assign(batch_id=batch_ids(chosen, rules))
    walked = group_label(current, rules)
    with _writes(engines) as conn:
        record_selection(conn, chosen, planned | {"selected_cases": len(chosen), "segment_group": walked})
        continue_walk(conn, planned["selection_date"], walked)
    return {"cases": len(chosen), "batches": chosen["batch_id"].nunique()}


def _segments_kept_on(conn, day: pd.Timestamp) -> bool:
    """Whether the snapshot's kept segments hold on ``day`` (on or after every extract date);
    before it, the look-back ends on ``day`` and the cases are classified again."""
    latest = latest_extract_date(conn)
    return latest is None or day >= pd.Timestamp(latest)


def close_reactively(engines: Engines, received_on: date) -> dict:
    """New CMS applications received on a day close the NRP's other open cases (section 3)."""
    [tranche_id] = reactive_tranche_id(pd.Series([pd.Timestamp(received_on)]))
    with engines.target.connect() as conn:
        applications = accepted_events(conn, None, received_on, (EventKind.NEW_APPLICATION,))
        unselected = unselected_of_nrps(conn, applications["nrp_ref"].tolist())
        before = tranche_so_far(conn, tranche_id)  # the day's earlier applications' closures
    closures = reactive_closures(applications, unselected, engines.rules, before["batches"] if before else 0)
    segments = classify_segments(unselected, pd.Timestamp(received_on), engines.rules)
    chosen = closures.assign(
        segment=segments.set_axis(unselected["case_ref"]).reindex(closures["case_ref"]).to_numpy()
    )
    with _writes(engines) as conn:
        if len(chosen):
            record_selection(conn, chosen, reactive_tranche(chosen, received_on, before))
        mark_events_applied(conn, applications["event_id"].tolist(), engines.run_id)
    return {"applications": len(applications), "cases": len(chosen)}
