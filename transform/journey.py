"""The closure journey's steps (RULEBOOK.md sections 3 to 9) as pure functions over a batch.

Each step takes the batch's current ``outcomes`` (the ``closure_outcome`` rows, keyed by
``case_ref``) and ``journeys`` (the ``case_journey`` rows), plus the canonical ``cases`` and
``ledger`` where it needs the legacy data, and returns a ``JourneyChanges``: the new rows and
everything the step produced (write-offs, transfers, CMS openings, letters, audit events).
Steps chain with ``JourneyChanges.then`` so one batch's work commits as one change.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings
from csa_closure.text import is_in
from transform.allocation import allocate_payments
from transform.choice import apply_choices
from transform.codes import (
    BOTH_PARENTS,
    Cause,
    Choice,
    Creditor,
    EventKind,
    JourneyEvent,
    JourneyState,
    LineKind,
    Outcome,
    ServiceType,
    Template,
    Verification,
)
from transform.dates import (
    extended_deadline,
    liability_end_date,
    reference_date,
    reminder_date,
)
from transform.decision import decide_arrears
from transform.ledger import creditor_balances, lines_known_on
from transform.letters import LETTER_COLUMNS, address_letters, letters_to
from transform.segments import last_receipt_on
from transform.verification import RESOLUTION_LINE_REF, resolve_holds, verify_arrears

OUTCOME_COLUMNS = [
    "case_ref", "scheme", "segment", "tranche_id", "batch_id", "journey_state", "selected_on",
    "liability_end_date", "arrears_pwc_pence", "arrears_sos_pence", "hold_reason",
    "transferred_pence", "written_off_pence", "pending_pence", "on_hold_pence", "choice",
    "choice_deadline", "cms_case_id",
]
JOURNEY_COLUMNS = [
    "case_ref", "reminder_on", "reminded", "liability_ended", "ledger_pwc_pence",
    "ledger_sos_pence", "resolved_on", "adjust_pwc_pence", "adjust_sos_pence",
    "pwc_accrued_from", "pwc_accrued_to", "extended", "application_service",
    "application_received_on", "choice_received_on", "choice_channel", "liability_end_date",
]
EVENT_COLUMNS = ["case_ref", "from_state", "to_state", "effective_date", "cause"]
WRITE_OFF_COLUMNS = ["case_ref", "creditor", "reason", "amount_pence", "decided_on"]
TRANSFER_COLUMNS = [
    "case_ref", "creditor", "amount_pence", "transferred_on", "accrued_from", "accrued_to",
]
OPENING_COLUMNS = ["case_ref", "service_type", "opened_on"]
LIABLE_SEGMENTS = (1, 2, 3, 4, 5)
ARREARS_ONLY_SEGMENT = 6


def _empty(columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame({column: pd.Series(dtype=object) for column in columns})


@dataclass(frozen=True)
class JourneyChanges:
    """One batch's changes: rows to upsert (by case) and rows to add."""

    outcomes: pd.DataFrame
    journeys: pd.DataFrame
    events: pd.DataFrame
    letters: pd.DataFrame
    write_offs: pd.DataFrame
    transfers: pd.DataFrame
    cms_openings: pd.DataFrame

    @classmethod
    def none(cls, outcomes: pd.DataFrame, journeys: pd.DataFrame) -> JourneyChanges:
        """No change to these rows (yet)."""
        return cls(
            outcomes=outcomes,
            journeys=journeys,
            events=_empty(EVENT_COLUMNS),
            letters=_empty([*LETTER_COLUMNS, "status"]),
            write_offs=_empty(WRITE_OFF_COLUMNS),
            transfers=_empty(TRANSFER_COLUMNS),
            cms_openings=_empty(OPENING_COLUMNS),
        )

    def then(self, later: JourneyChanges) -> JourneyChanges:
        """This change followed by a later one: later rows win, produced rows add up."""

        def newest(earlier: pd.DataFrame, latest: pd.DataFrame) -> pd.DataFrame:
            kept = earlier[~is_in(earlier["case_ref"], latest["case_ref"])]
            return pd.concat([kept, latest], ignore_index=True) if len(kept) else latest

        merged = {}
        for field in fields(self):
            mine, theirs = getattr(self, field.name), getattr(later, field.name)
            if field.name in ("outcomes", "journeys"):
                merged[field.name] = newest(mine, theirs)
            else:
                parts = [frame for frame in (mine, theirs) if len(frame)]
                merged[field.name] = pd.concat(parts, ignore_index=True) if parts else mine
        return JourneyChanges(**merged)


def _events(before: pd.Series, after: pd.DataFrame, effective, cause: Cause) -> pd.DataFrame:
    """An audit event for every case whose journey state changed."""
    previous = before.reindex(after["case_ref"]).to_numpy(dtype=object)
    current = after["journey_state"].to_numpy(dtype=object)
    changed = np.array([p != c for p, c in zip(previous, current)], dtype=bool)
    effective_dates = (
        np.asarray(effective, dtype="datetime64[ns]")
        if isinstance(effective, (pd.Series, np.ndarray))
        else np.full(len(after), np.datetime64(effective, "ns"))
    )
    return pd.DataFrame(
        {
            "case_ref": after["case_ref"].to_numpy()[changed],
            "from_state": previous[changed],
            "to_state": current[changed],
            "effective_date": effective_dates[changed],
            "cause": cause.value,
        },
        columns=EVENT_COLUMNS,
    )


def _states(outcomes: pd.DataFrame) -> pd.Series:
    return pd.Series(outcomes["journey_state"].to_numpy(dtype=object), index=outcomes["case_ref"])


def _addressed(letters: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    return address_letters(letters, cases) if len(letters) else _empty([*LETTER_COLUMNS, "status"])


def _by_case(frame: pd.DataFrame, case_refs: pd.Series) -> pd.DataFrame:
    """``frame`` rows in the order of ``case_refs``, indexed 0..n-1 like them."""
    return frame.set_index("case_ref").reindex(case_refs).reset_index()


# --- selection ------------------------------------------------------------------------------


def start_journeys(
    selection: pd.DataFrame,
    cases: pd.DataFrame,
    ledger: pd.DataFrame,
    rules: RuleSettings,
) -> JourneyChanges:
    """Selected cases join the journey: verified (section 5), initial notices (section 3), and
    arrears-only cases decided at once (section 4).

    ``selection``: ``case_ref``, ``tranche_id``, ``batch_id``, ``segment``, ``selected_on``
    (one date for the batch), ``liability_end_date`` (given for reactive closures, else NaT).
    """
    selected_on = pd.Timestamp(selection["selected_on"].iloc[0])
    rows = selection.merge(cases, on="case_ref", how="inner").reset_index(drop=True)
    verification = verify_arrears(rows, ledger, selected_on, rules)
    held = (verification["outcome"] == Verification.HOLD).to_numpy()
    liable = rows["segment"].isin(LIABLE_SEGMENTS).to_numpy()
    reactive = rows["liability_end_date"].notna().to_numpy()
    end = rows["liability_end_date"].where(
        reactive, liability_end_date(rows["selected_on"], rules)
    ).where(liable)
    ledger_pwc = verification["ledger_pwc_pence"].to_numpy(dtype=np.int64)
    ledger_sos = verification["ledger_sos_pence"].to_numpy(dtype=np.int64)
    state = np.where(held, JourneyState.ON_HOLD.value, JourneyState.AWAITING_LIABILITY_END.value)
    outcomes = pd.DataFrame(
        {
            "case_ref": rows["case_ref"],
            "scheme": rows["scheme"],
            "segment": rows["segment"].astype("int64"),
            "tranche_id": rows["tranche_id"],
            "batch_id": rows["batch_id"],
            "journey_state": state,
            "selected_on": rows["selected_on"],
            "liability_end_date": end,
            "arrears_pwc_pence": pd.array(np.where(held, 0, ledger_pwc), dtype="Int64"),
            "arrears_sos_pence": pd.array(np.where(held, 0, ledger_sos), dtype="Int64"),
            "hold_reason": verification["hold_reason"].where(pd.Series(held)),
            "transferred_pence": 0,
            "written_off_pence": 0,
            "pending_pence": np.where(held, 0, ledger_pwc + ledger_sos),
            "on_hold_pence": np.where(held, ledger_pwc + ledger_sos, 0),
            "choice": None,
            "choice_deadline": pd.Series(pd.NaT, index=rows.index, dtype="datetime64[ns]"),
            "cms_case_id": pd.array([pd.NA] * len(rows), dtype="Int64"),
        }
    )
    outcomes.loc[held, ["arrears_pwc_pence", "arrears_sos_pence"]] = pd.NA
    journeys = pd.DataFrame(
        {
            "case_ref": rows["case_ref"],
            "reminder_on": reminder_date(end, rules).where(liable & ~reactive),
            "reminded": False,
            "liability_ended": False,
            "ledger_pwc_pence": ledger_pwc,
            "ledger_sos_pence": ledger_sos,
            "resolved_on": pd.NaT,
            "adjust_pwc_pence": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "adjust_sos_pence": pd.array([pd.NA] * len(rows), dtype="Int64"),
            "pwc_accrued_from": pd.NaT,
            "pwc_accrued_to": pd.NaT,
            "extended": False,
            "application_service": None,
            "application_received_on": pd.NaT,
            "choice_received_on": pd.NaT,
            "choice_channel": None,
            "liability_end_date": end,
        }
    )[JOURNEY_COLUMNS]
    notices = letters_to(
        rows["case_ref"][liable],
        rows["selected_on"][liable],
        JourneyEvent.SELECTION,
        Template.INITIAL_NOTICE,
        BOTH_PARENTS,
    )
    due_now = ~liable & ~held
    unselected = pd.Series(dtype=object)
    started = replace(
        JourneyChanges.none(outcomes[OUTCOME_COLUMNS], journeys),
        events=_events(unselected, outcomes[~due_now], selected_on, Cause.SELECTION),
        letters=_addressed(notices, rows),
    )
    if not due_now.any():
        return started
    just_selected = outcomes[due_now].assign(journey_state=None)
    return started.then(
        decide(just_selected, journeys[due_now], cases, ledger, selected_on, rules, Cause.DECISION)
    )


# --- the arrears decision (section 6) and the choice (section 7) -----------------------------


def _ledger_with_resolutions(ledger: pd.DataFrame, journeys: pd.DataFrame) -> pd.DataFrame:
    """The canonical ledger plus the adjustments that resolved holds made (section 5)."""
    resolved = journeys[journeys["resolved_on"].notna()]
    if resolved.empty:
        return ledger
    adjustments = []
    for creditor in Creditor:
        amount = resolved[f"adjust_{creditor.lower()}_pence"].fillna(0).astype("int64")
        adjustments.append(
            pd.DataFrame(
                {
                    "case_ref": resolved["case_ref"].to_numpy(),
                    "line_ref": RESOLUTION_LINE_REF[creditor],
                    "posted_date": resolved["resolved_on"].to_numpy(dtype="datetime64[ns]"),
                    "kind": LineKind.ADJUSTMENT.value,
                    "creditor": creditor.value,
                    "amount_pence": amount.to_numpy(),
                    "period_from": np.datetime64("NaT", "ns"),
                    "period_to": np.datetime64("NaT", "ns"),
                }
            )[amount.to_numpy() != 0]
        )
    return pd.concat([ledger, *adjustments], ignore_index=True)


def decide(
    outcomes: pd.DataFrame,
    journeys: pd.DataFrame,
    cases: pd.DataFrame,
    ledger: pd.DataFrame,
    decided_on: pd.Timestamp,
    rules: RuleSettings,
    cause: Cause,
) -> JourneyChanges:
    """Take the arrears decision for verified (or resolved) cases as of ``decided_on``."""
    outcomes = outcomes.reset_index(drop=True)
    journeys = _by_case(journeys, outcomes["case_ref"])
    rows = _by_case(cases, outcomes["case_ref"])
    extracted_on = rows.set_index("case_ref")["extracted_on"]
    lines = lines_known_on(
        _ledger_with_resolutions(ledger[is_in(ledger["case_ref"], rows["case_ref"])], journeys),
        decided_on,
        extracted_on,
    )
    reference = reference_date(decided_on, extracted_on)
    rows = rows.assign(
        decided_on=decided_on, last_receipt_on=last_receipt_on(lines, reference).to_numpy()
    )
    decision = decide_arrears(rows, allocate_payments(lines), rules)
    parts = decision.parts
    sums = decision.cases.set_index("case_ref")

    def total(outcome: Outcome) -> np.ndarray:
        of = parts[parts["outcome"] == outcome].groupby("case_ref")["amount_pence"].sum()
        return of.reindex(outcomes["case_ref"]).fillna(0).astype("int64").to_numpy()

    pending = total(Outcome.AWAITING_CHOICE)
    transferred = total(Outcome.TRANSFER)
    decided = outcomes.assign(
        arrears_pwc_pence=pd.array(sums["arrears_pwc_pence"].to_numpy(), dtype="Int64"),
        arrears_sos_pence=pd.array(sums["arrears_sos_pence"].to_numpy(), dtype="Int64"),
        written_off_pence=outcomes["written_off_pence"].to_numpy(dtype=np.int64)
        + total(Outcome.WRITE_OFF),
        transferred_pence=outcomes["transferred_pence"].to_numpy(dtype=np.int64) + transferred,
        pending_pence=pending,
        on_hold_pence=0,
        journey_state=np.where(
            pending > 0, JourneyState.AWAITING_CHOICE.value, JourneyState.CLOSED.value
        ),
        choice_deadline=sums["choice_deadline"].to_numpy(dtype="datetime64[ns]"),
    )
    accrued = decision.accrued
    pwc_accrued = accrued[accrued["creditor"] == Creditor.PWC].set_index("case_ref")
    journeys = journeys.assign(
        pwc_accrued_from=pwc_accrued["accrued_from"].reindex(journeys["case_ref"]).to_numpy(),
        pwc_accrued_to=pwc_accrued["accrued_to"].reindex(journeys["case_ref"]).to_numpy(),
    )
    transfers = parts[parts["outcome"] == Outcome.TRANSFER].merge(
        accrued, on=["case_ref", "creditor"], how="left"
    )
    return JourneyChanges(
        outcomes=decided[OUTCOME_COLUMNS],
        journeys=journeys[JOURNEY_COLUMNS],
        events=_events(_states(outcomes), decided, decided_on, cause),
        letters=_addressed(decision.letters, rows),
        write_offs=_write_offs(parts),
        transfers=_transfers(transfers),
        cms_openings=_arrears_only_openings(transfers, journeys, outcomes),
    )


def _write_offs(parts: pd.DataFrame) -> pd.DataFrame:
    return parts.loc[parts["outcome"] == Outcome.WRITE_OFF, WRITE_OFF_COLUMNS].reset_index(
        drop=True
    )


def _transfers(transfers: pd.DataFrame) -> pd.DataFrame:
    return transfers.rename(columns={"decided_on": "transferred_on"})[TRANSFER_COLUMNS]


def _arrears_only_openings(
    transfers: pd.DataFrame, journeys: pd.DataFrame, outcomes: pd.DataFrame
) -> pd.DataFrame:
    """A CMS case of type ARREARS_ONLY on the transfer date, where the receiving parent did not
    apply (an application opened its CMS case on the liability end date already)."""
    applied = set(journeys.loc[journeys["application_service"].notna(), "case_ref"])
    opened = set(outcomes.loc[outcomes["cms_case_id"].notna(), "case_ref"])
    first = transfers.drop_duplicates("case_ref")
    first = first[~is_in(first["case_ref"], applied | opened)]
    return pd.DataFrame(
        {
            "case_ref": first["case_ref"].to_numpy(),
            "service_type": ServiceType.ARREARS_ONLY.value,
            "opened_on": first["decided_on"].to_numpy(dtype="datetime64[ns]"),
        },
        columns=OPENING_COLUMNS,
    )


def settle_choices(
    outcomes: pd.DataFrame,
    journeys: pd.DataFrame,
    cases: pd.DataFrame,
    answers: pd.DataFrame,
    as_of: pd.Timestamp,
) -> JourneyChanges:
    """Apply accepted answers, and deadlines passed without one (section 7), as of ``as_of``.

    ``outcomes``: cases awaiting a choice. ``answers``: ``case_ref``, ``choice``,
    ``received_on``, ``channel`` (at most one accepted answer per case).
    """
    outcomes = outcomes.reset_index(drop=True)
    journeys = _by_case(journeys, outcomes["case_ref"])
    rows = _by_case(cases, outcomes["case_ref"])
    answers = answers.astype({"received_on": "datetime64[ns]"})
    awaiting = pd.DataFrame(
        {
            "case_ref": outcomes["case_ref"],
            "pending_pence": outcomes["pending_pence"].astype("int64"),
            "choice_deadline": outcomes["choice_deadline"].astype("datetime64[ns]"),
            "nrp_untraced": rows["nrp_untraced"].astype(bool),
            "nrp_abroad": rows["nrp_abroad"].astype(bool),
        }
    )
    settled = apply_choices(awaiting, answers[["case_ref", "choice", "received_on"]], as_of)
    parts = settled.parts
    done = is_in(outcomes["case_ref"], parts["case_ref"]).to_numpy()
    by_case = parts.set_index("case_ref").reindex(outcomes["case_ref"])
    amount = by_case["amount_pence"].fillna(0).astype("int64").to_numpy()
    transferred = (by_case["outcome"] == Outcome.TRANSFER).to_numpy()
    choice = settled.choices.set_index("case_ref")["choice"].reindex(outcomes["case_ref"])
    after = outcomes.assign(
        transferred_pence=outcomes["transferred_pence"].to_numpy(dtype=np.int64)
        + np.where(transferred, amount, 0),
        written_off_pence=outcomes["written_off_pence"].to_numpy(dtype=np.int64)
        + np.where(done & ~transferred, amount, 0),
        pending_pence=np.where(done, 0, outcomes["pending_pence"].to_numpy(dtype=np.int64)),
        journey_state=np.where(
            done, JourneyState.CLOSED.value, outcomes["journey_state"].to_numpy(dtype=object)
        ),
        choice=choice.where(choice.notna(), None).to_numpy(dtype=object),
    )[done]
    answer = answers.set_index("case_ref").reindex(after["case_ref"])
    journeys = _by_case(journeys, after["case_ref"]).assign(
        choice_received_on=answer["received_on"].to_numpy(dtype="datetime64[ns]"),
        choice_channel=answer["channel"].to_numpy(dtype=object),
    )
    accrued = journeys.set_index("case_ref")
    transfers = parts[parts["outcome"] == Outcome.TRANSFER].assign(
        accrued_from=lambda t: accrued["pwc_accrued_from"].reindex(t["case_ref"]).to_numpy(),
        accrued_to=lambda t: accrued["pwc_accrued_to"].reindex(t["case_ref"]).to_numpy(),
    )
    decided_on = by_case["decided_on"].to_numpy(dtype="datetime64[ns]")[done]
    causes = np.where(after["choice"].notna().to_numpy(), Cause.CHOICE, Cause.NO_RESPONSE)
    events = pd.concat(
        [
            _events(_states(outcomes), after[causes == cause], decided_on[causes == cause], cause)
            for cause in (Cause.CHOICE, Cause.NO_RESPONSE)
        ],
        ignore_index=True,
    )
    return JourneyChanges(
        outcomes=after[OUTCOME_COLUMNS].reset_index(drop=True),
        journeys=journeys[JOURNEY_COLUMNS],
        events=events,
        letters=_addressed(settled.letters, rows),
        write_offs=_write_offs(parts),
        transfers=_transfers(transfers),
        cms_openings=_arrears_only_openings(transfers, journeys, outcomes),
    )


def extend_deadlines(
    outcomes: pd.DataFrame, journeys: pd.DataFrame, rules: RuleSettings
) -> JourneyChanges:
    """Accepted extension requests: the deadline moves by 28 days, once (section 7)."""
    journeys = _by_case(journeys, outcomes["case_ref"]).assign(extended=True)
    extended = outcomes.assign(
        choice_deadline=extended_deadline(
            outcomes["choice_deadline"].astype("datetime64[ns]"), rules
        ).to_numpy()
    )
    return JourneyChanges.none(extended[OUTCOME_COLUMNS], journeys[JOURNEY_COLUMNS])


def record_applications(
    outcomes: pd.DataFrame, journeys: pd.DataFrame, applications: pd.DataFrame
) -> JourneyChanges:
    """Accepted CMS applications, kept until the liability end date opens the CMS case.

    ``applications``: ``case_ref``, ``service_type``, ``received_on``.
    """
    application = applications.set_index("case_ref").reindex(journeys["case_ref"])
    journeys = journeys.assign(
        application_service=application["service_type"].to_numpy(dtype=object),
        application_received_on=application["received_on"].to_numpy(dtype="datetime64[ns]"),
    )
    return JourneyChanges.none(outcomes[OUTCOME_COLUMNS], journeys[JOURNEY_COLUMNS])


# --- reminders, liability end and holds -------------------------------------------------------


def send_reminders(
    outcomes: pd.DataFrame, journeys: pd.DataFrame, cases: pd.DataFrame
) -> JourneyChanges:
    """Reminder letters to both parents one month before liability ends (section 3)."""
    journeys = journeys.assign(reminded=True)
    letters = letters_to(
        journeys["case_ref"],
        journeys["reminder_on"],
        JourneyEvent.REMINDER,
        Template.REMINDER,
        BOTH_PARENTS,
    )
    return replace(
        JourneyChanges.none(outcomes[OUTCOME_COLUMNS], journeys[JOURNEY_COLUMNS]),
        letters=_addressed(letters, _by_case(cases, journeys["case_ref"])),
    )


def end_liability(
    outcomes: pd.DataFrame,
    journeys: pd.DataFrame,
    cases: pd.DataFrame,
    ledger: pd.DataFrame,
    ends_on: pd.Timestamp,
    rules: RuleSettings,
) -> JourneyChanges:
    """Liability ends (section 3): confirmation letters, a CMS case for an application,
    arrears re-verified from the latest ledger, and the decision for verified cases."""
    outcomes = outcomes.reset_index(drop=True)
    journeys = _by_case(journeys, outcomes["case_ref"])
    rows = _by_case(cases, outcomes["case_ref"])
    resolved = journeys["resolved_on"].notna().to_numpy()
    resolved_pwc = outcomes["arrears_pwc_pence"].fillna(0).astype("int64").to_numpy()
    resolved_sos = outcomes["arrears_sos_pence"].fillna(0).astype("int64").to_numpy()
    against = rows.assign(
        recorded_total_pence=np.where(
            resolved, resolved_pwc + resolved_sos, rows["recorded_total_pence"].to_numpy()
        ),
        recorded_sos_pence=np.where(resolved, resolved_sos, rows["recorded_sos_pence"].to_numpy()),
    )
    lines = _ledger_with_resolutions(ledger[is_in(ledger["case_ref"], rows["case_ref"])], journeys)
    verification = verify_arrears(against, lines, ends_on, rules)
    held = (verification["outcome"] == Verification.HOLD).to_numpy()
    ledger_pwc = verification["ledger_pwc_pence"].to_numpy(dtype=np.int64)
    ledger_sos = verification["ledger_sos_pence"].to_numpy(dtype=np.int64)
    journeys = journeys.assign(
        liability_ended=True, ledger_pwc_pence=ledger_pwc, ledger_sos_pence=ledger_sos
    )
    ended = outcomes.assign(
        journey_state=np.where(
            held, JourneyState.ON_HOLD.value, outcomes["journey_state"].to_numpy(dtype=object)
        ),
        hold_reason=np.where(
            held,
            verification["hold_reason"].to_numpy(dtype=object),
            outcomes["hold_reason"].to_numpy(dtype=object),
        ),
        on_hold_pence=np.where(held, ledger_pwc + ledger_sos, 0),
        pending_pence=np.where(held, 0, ledger_pwc + ledger_sos),
        arrears_pwc_pence=pd.array(np.where(held, 0, ledger_pwc), dtype="Int64"),
        arrears_sos_pence=pd.array(np.where(held, 0, ledger_sos), dtype="Int64"),
    )
    ended.loc[held, ["arrears_pwc_pence", "arrears_sos_pence"]] = pd.NA
    applied = journeys["application_service"].notna().to_numpy()
    letters = letters_to(
        rows["case_ref"],
        pd.Series(ends_on, index=rows.index),
        JourneyEvent.LIABILITY_END,
        Template.LIABILITY_ENDED,
        BOTH_PARENTS,
    )
    liability_ended = JourneyChanges(
        outcomes=ended[OUTCOME_COLUMNS],
        journeys=journeys[JOURNEY_COLUMNS],
        events=_events(_states(outcomes), ended, ends_on, Cause.LIABILITY_END),
        letters=_addressed(letters, rows),
        write_offs=_empty(WRITE_OFF_COLUMNS),
        transfers=_empty(TRANSFER_COLUMNS),
        cms_openings=pd.DataFrame(
            {
                "case_ref": rows["case_ref"][applied].to_numpy(),
                "service_type": journeys["application_service"][applied].to_numpy(),
                "opened_on": np.full(applied.sum(), np.datetime64(ends_on, "ns")),
            },
            columns=OPENING_COLUMNS,
        ),
    )
    if held.all():
        return liability_ended
    return liability_ended.then(
        decide(ended[~held], journeys[~held], cases, ledger, ends_on, rules, Cause.DECISION)
    )


def resolve(
    outcomes: pd.DataFrame,
    journeys: pd.DataFrame,
    cases: pd.DataFrame,
    ledger: pd.DataFrame,
    resolutions: pd.DataFrame,
    as_of: pd.Timestamp,
    rules: RuleSettings,
) -> JourneyChanges:
    """Accepted hold resolutions (section 5): the resolved figures stand as the arrears; a case
    whose decision was postponed is decided now, as of the run's date; the others go back to
    waiting for liability to end.

    ``resolutions``: ``case_ref``, ``use``, ``pwc_pence``, ``sos_pence``, ``resolved_on``.
    """
    outcomes = outcomes.reset_index(drop=True)
    journeys = _by_case(journeys, outcomes["case_ref"])
    rows = _by_case(cases, outcomes["case_ref"])
    # The legacy ledger as it stands now (it may have moved since the hold), and as the case
    # shows it: with what an earlier resolution adjusted. The new figure replaces that
    # adjustment: it is the difference between the figure and the legacy ledger.
    of_cases = ledger[is_in(ledger["case_ref"], outcomes["case_ref"])]
    legacy = creditor_balances(
        lines_known_on(of_cases, as_of, rows.set_index("case_ref")["extracted_on"]), outcomes["case_ref"]
    )
    verification = pd.DataFrame(
        {
            "case_ref": outcomes["case_ref"],
            **{
                f"ledger_{creditor}_pence": legacy[f"{creditor}_pence"].to_numpy()
                + journeys[f"adjust_{creditor}_pence"].fillna(0).to_numpy(dtype=np.int64)
                for creditor in ("pwc", "sos")
            },
            "recorded_pwc_pence": rows["recorded_total_pence"] - rows["recorded_sos_pence"],
            "recorded_sos_pence": rows["recorded_sos_pence"],
            "outcome": Verification.HOLD.value,
        }
    )
    resolutions = _by_case(resolutions, outcomes["case_ref"])
    figures, _ = resolve_holds(resolutions, verification)
    pwc = figures["pwc_pence"].to_numpy(dtype=np.int64)
    sos = figures["sos_pence"].to_numpy(dtype=np.int64)
    journeys = journeys.assign(
        resolved_on=resolutions["resolved_on"].to_numpy(dtype="datetime64[ns]"),
        adjust_pwc_pence=pwc - legacy["pwc_pence"].to_numpy(),
        adjust_sos_pence=sos - legacy["sos_pence"].to_numpy(),
    )
    released = outcomes.assign(
        arrears_pwc_pence=pd.array(pwc, dtype="Int64"),
        arrears_sos_pence=pd.array(sos, dtype="Int64"),
        on_hold_pence=0,
        pending_pence=pwc + sos,
    )
    due = (journeys["liability_ended"].to_numpy(dtype=bool)) | (
        outcomes["segment"].to_numpy() == ARREARS_ONLY_SEGMENT
    )
    waiting = released[~due].assign(journey_state=JourneyState.AWAITING_LIABILITY_END.value)
    changes = JourneyChanges.none(waiting[OUTCOME_COLUMNS], journeys[~due][JOURNEY_COLUMNS])
    changes = replace(
        changes,
        events=_events(
            _states(outcomes),
            waiting,
            resolutions["resolved_on"][~due].to_numpy(dtype="datetime64[ns]"),
            Cause.HOLD_RESOLUTION,
        ),
    )
    if not due.any():
        return changes
    return changes.then(
        decide(released[due], journeys[due], cases, ledger, as_of, rules, Cause.HOLD_RESOLUTION)
    )


# --- a day's operators' events -------------------------------------------------------------------

EVENT_ORDER = (EventKind.APPLICATION, EventKind.EXTENSION, EventKind.CHOICE, EventKind.HOLD_RESOLUTION)
"""The order in which one day's events of a batch apply: an application before the choice it
may come with, an extension before a choice that answers within it."""


def apply_events(
    outcomes: pd.DataFrame,
    journeys: pd.DataFrame,
    cases: pd.DataFrame,
    events: pd.DataFrame,
    held_cases: pd.DataFrame,
    held_ledger: pd.DataFrame,
    as_of: pd.Timestamp,
    rules: RuleSettings,
) -> JourneyChanges:
    """One day's accepted events of a batch, each kind in ``EVENT_ORDER``, each on its cases as
    the earlier kinds left them.

    ``events``: ``case_ref``, ``kind``, ``value``, ``received_on``, ``channel``, ``pwc_pence``,
    ``sos_pence``; ``cases`` the cases' snapshot; a hold resolution decides on its cases' legacy
    rows read afresh, ``held_cases`` and ``held_ledger``."""
    changes = JourneyChanges.none(outcomes.iloc[0:0], journeys.iloc[0:0])
    for kind in EVENT_ORDER:
        of_kind = events[events["kind"] == kind]
        if of_kind.empty:
            continue
        latest = JourneyChanges.none(outcomes, journeys).then(changes)
        rows = latest.outcomes[is_in(latest.outcomes["case_ref"], of_kind["case_ref"])]
        rows_journeys = latest.journeys[is_in(latest.journeys["case_ref"], of_kind["case_ref"])]
        match kind:
            case EventKind.APPLICATION:
                services = of_kind["value"].map(ServiceType).astype("str")
                step = record_applications(rows, rows_journeys, of_kind.assign(service_type=services))
            case EventKind.EXTENSION:
                step = extend_deadlines(rows, rows_journeys, rules)
            case EventKind.CHOICE:
                answers = of_kind.assign(choice=of_kind["value"].map(Choice).astype("str"))
                step = settle_choices(rows, rows_journeys, cases, answers, as_of)
            case _:
                resolutions = of_kind.rename(columns={"value": "use", "received_on": "resolved_on"})
                step = resolve(rows, rows_journeys, held_cases, held_ledger, resolutions, as_of, rules)
        changes = changes.then(step)
    return changes
