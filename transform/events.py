"""Section 8: the events operations record, parsed and validated before the next ``advance``.

An event is parsed from the operator's words (a ``record`` command or a row of
``import-responses``), then checked against where the journey stands: the clock, the case's
state and windows, and the events already accepted but not yet applied, including earlier ones
of the same batch. Each event gets the first reason it fails (docs/design.md, event validation),
or none when it is accepted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings
from csa_closure.shown import CONTROL, escaped_values
from transform.choice import _earlier_in_batch, answer_refusals, extension_refusals
from transform.codes import (
    Choice,
    EventKind,
    EventStatus,
    HoldResolution,
    JourneyState,
    ServiceType,
    Verification,
)
from transform.dates import add_days, extended_deadline
from transform.references import PersonRefFormat, any_person_ref, described
from transform.refusals import first_refusal
from transform.verification import hold_resolution_refusals

EVENT_NAMES: dict[str, EventKind] = {
    "application": EventKind.APPLICATION,
    "new-application": EventKind.NEW_APPLICATION,
    "choice": EventKind.CHOICE,
    "extension": EventKind.EXTENSION,
    "hold-resolution": EventKind.HOLD_RESOLUTION,
}
"""The operator's name of each event: the ``record`` subcommand and the ``event`` column."""

SERVICE_NAMES = {"direct-pay": ServiceType.DIRECT_PAY, "collect-and-pay": ServiceType.COLLECT_AND_PAY}
CHOICE_NAMES = {"collect": Choice.COLLECT, "write-off": Choice.WRITE_OFF}
USE_NAMES = {use.value: use for use in HoldResolution}

RAW_COLUMNS = (
    "event", "case", "service", "nrp", "pwc", "choice", "channel", "received", "use",
    "pwc_pence", "sos_pence", "reason", "by",
)
"""The operator's fields, named after the ``record`` options without dashes."""

CASE_EVENTS = frozenset(EventKind) - {EventKind.NEW_APPLICATION}
DEFAULT_CHANNEL = "post"
MAX_CHANNEL_LENGTH = 40

FIELD_USERS: dict[str, frozenset[EventKind]] = {
    "case": CASE_EVENTS,
    "service": frozenset({EventKind.APPLICATION}),
    "nrp": frozenset({EventKind.NEW_APPLICATION}),
    "pwc": frozenset({EventKind.NEW_APPLICATION}),
    "choice": frozenset({EventKind.CHOICE}),
    "channel": frozenset({EventKind.CHOICE}),
    "received": frozenset(EventKind) - {EventKind.HOLD_RESOLUTION},
    "use": frozenset({EventKind.HOLD_RESOLUTION}),
    "pwc_pence": frozenset({EventKind.HOLD_RESOLUTION}),
    "sos_pence": frozenset({EventKind.HOLD_RESOLUTION}),
    "reason": frozenset({EventKind.HOLD_RESOLUTION}),
    "by": frozenset({EventKind.HOLD_RESOLUTION}),
}
"""The events that read each field; other events ignore it (a hold resolution is dated by the
journey clock, not by a received date)."""

OPTIONAL_FIELDS = frozenset({"channel", "pwc_pence", "sos_pence"})
MAX_PENCE_DIGITS = 18
"""Any whole number of so many digits is an int64; the rules bound the amounts far below."""


@dataclass(frozen=True)
class JourneySnapshot:
    """Where the journey stands when events are recorded.

    ``advanced_to``: ``journey_clock.advanced_to`` (None before the first ``advance``).
    ``cases``: one row per selected case named by an event: ``case_ref``, ``journey_state``,
    ``selected_on``, ``liability_end_date``, ``choice_deadline``, ``liability_ended``,
    ``extended``, ``application_received_on``, ``choice_received_on``, ``ledger_pwc_pence``,
    ``ledger_sos_pence``, ``recorded_pwc_pence``, ``recorded_sos_pence``.
    ``known_nrps``: the paying parents of known cases named by new applications.
    ``pending``: events accepted but not yet applied: ``kind``, ``case_ref``, ``received_on``.
    ``new_applications``: the new applications already recorded (accepted or applied) naming
    those paying parents: ``nrp_ref``, ``pwc_ref``, ``received_on``.
    """

    advanced_to: pd.Timestamp | None
    cases: pd.DataFrame
    known_nrps: frozenset[str]
    pending: pd.DataFrame
    new_applications: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {"nrp_ref": pd.Series(dtype="str"), "pwc_ref": pd.Series(dtype="str"),
             "received_on": pd.Series(dtype="datetime64[ns]")}
        )
    )


def parse_events(raw: pd.DataFrame, person_refs: Sequence[PersonRefFormat]) -> pd.DataFrame:
    """Turn the operator's text into typed events; ``refusal`` names the first malformed field.

    ``raw`` holds ``RAW_COLUMNS`` as text; missing columns, empty cells and fields the event
    does not use count as not given. A parent is named in one of the legacy systems' formats
    (``person_refs``). Returns, on the same index, the ``operator_event`` columns
    ``kind``, ``csa_case_ref``, ``nrp_ref``, ``pwc_ref``, ``value``, ``pwc_pence``,
    ``sos_pence``, ``reason``, ``caseworker``, ``channel``, ``received_on``, and ``refusal``.
    ``value`` is a code (``DIRECT_PAY``, ``COLLECT``, ``ledger``..), or the text as given where
    it names none.
    """
    text = raw.reindex(columns=list(RAW_COLUMNS)).fillna("").astype(str).apply(lambda c: c.str.strip())
    kind = text["event"].str.lower().map(EVENT_NAMES)
    for name, users in FIELD_USERS.items():
        text[name] = text[name].where(kind.isin(users), "")
    # From here on the text is as a refusal shows it and the audit stores it: a control
    # character, which no field may hold, escaped (PostgreSQL's text cannot hold a NUL).
    controlled = text.apply(lambda column: column.str.contains(CONTROL))
    text = text.apply(escaped_values)
    given = text != ""
    received = pd.to_datetime(text["received"], format="%Y-%m-%d", errors="coerce")
    pence = {field: _pence(text[field]) for field in ("pwc_pence", "sos_pence")}
    events = pd.DataFrame(
        {
            "kind": kind,
            "csa_case_ref": text["case"].str.upper(),
            "nrp_ref": text["nrp"].str.upper(),
            "pwc_ref": text["pwc"].str.upper(),
            # each event uses at most one of the three fields, the others are blank
            "value": _code(text["service"], SERVICE_NAMES)
            + _code(text["choice"], CHOICE_NAMES)
            + _code(text["use"], USE_NAMES),
            **pence,
            "reason": text["reason"],
            "caseworker": text["by"],
            "channel": text["channel"].mask(kind.eq(EventKind.CHOICE) & ~given["channel"], DEFAULT_CHANNEL),
            "received_on": received.astype("datetime64[ns]"),
        },
        index=raw.index,
    ).replace({"": None})
    checks = [
        (
            kind.isna(),
            "event must be application, new-application, choice, extension or hold-resolution, "
            "not '" + text["event"] + "'",
        ),
        *[
            (controlled[field], f"{field} must not hold control characters, not '" + text[field] + "'")
            for field in FIELD_USERS
        ],
        *[
            (kind.isin(users) & ~given[field], f"{field} is missing")
            for field, users in FIELD_USERS.items()
            if field not in OPTIONAL_FIELDS
        ],
        (
            given["received"] & received.isna(),
            "received must be a date as YYYY-MM-DD, not '" + text["received"] + "'",
        ),
        *[
            (
                given[field] & ~text[field].str.lower().isin(names),
                f"{field} must be {' or '.join(names)}, not '" + text[field] + "'",
            )
            for field, names in (("service", SERVICE_NAMES), ("choice", CHOICE_NAMES), ("use", USE_NAMES))
        ],
        *[
            check
            for field in pence
            for check in (
                (
                    given[field] & ~text[field].str.fullmatch(r"-?\d+"),
                    f"{field} must be whole pence, not '" + text[field] + "'",
                ),
                (
                    given[field] & pence[field].isna(),
                    f"{field} must be whole pence of at most {MAX_PENCE_DIGITS} digits, not '" + text[field] + "'",
                ),
            )
        ],
        (
            given["pwc"] & ~text["pwc"].str.upper().str.fullmatch(any_person_ref(person_refs)),
            f"pwc must be a person reference ({described(person_refs)}), not '" + text["pwc"] + "'",
        ),
        (
            text["channel"].str.len() > MAX_CHANNEL_LENGTH,
            f"channel must be at most {MAX_CHANNEL_LENGTH} characters",
        ),
    ]
    events["refusal"] = first_refusal(events.index, checks)
    return events


def validate_events(
    events: pd.DataFrame, journey: JourneySnapshot, rules: RuleSettings
) -> pd.DataFrame:
    """Refuse each parsed event that the journey cannot take; hold resolutions get the clock's date.

    Checks run in the order an operator would fix them: malformed input, the clock, an unknown
    case or NRP, a date after the clock, then each kind's state and window. An event already
    refused is not checked further, so it never blocks a later event of its case. Extensions go
    before choices: one accepted in the same batch moves the deadline an answer is held to.
    """
    checked = events.copy()
    if journey.advanced_to is not None:
        is_hold = checked["kind"] == EventKind.HOLD_RESOLUTION
        checked["received_on"] = checked["received_on"].mask(is_hold, journey.advanced_to)
    refusal = checked["refusal"]
    refusal = refusal.fillna(_clock_refusals(checked, journey.advanced_to))
    refusal = refusal.fillna(_unknown_refusals(checked, journey))
    refusal = _refuse_open(
        refusal, checked, EventKind.APPLICATION, lambda e: application_refusals(e, journey)
    )
    refusal = _refuse_open(
        refusal, checked, EventKind.NEW_APPLICATION, lambda e: new_application_refusals(e, journey)
    )
    refusal = _refuse_open(
        refusal, checked, EventKind.EXTENSION, lambda e: extension_request_refusals(e, journey, rules)
    )
    extended_now = checked.loc[(checked["kind"] == EventKind.EXTENSION) & refusal.isna(), "csa_case_ref"]
    refusal = _refuse_open(
        refusal, checked, EventKind.CHOICE, lambda e: choice_refusals(e, journey, rules, extended_now)
    )
    refusal = _refuse_open(
        refusal, checked, EventKind.HOLD_RESOLUTION, lambda e: resolution_refusals(e, journey, rules)
    )
    checked["refusal"] = refusal
    return checked


EVENT_IDENTITY = (
    "kind", "csa_case_ref", "nrp_ref", "pwc_ref", "value", "pwc_pence", "sos_pence", "reason", "caseworker",
    "channel", "received_on",
)
"""What makes two recorded events one: recording the same event again changes nothing."""


def waiting_events(recorded: pd.DataFrame) -> pd.DataFrame:
    """Of the stored events (``recorded``, with ``status``), those of cases accepted and not yet
    applied, as ``JourneySnapshot.pending`` holds them."""
    waiting = recorded[(recorded["status"] == EventStatus.ACCEPTED) & recorded["csa_case_ref"].notna()]
    return waiting.rename(columns={"csa_case_ref": "case_ref"})[["kind", "case_ref", "received_on"]]


def new_applications_taken(recorded: pd.DataFrame) -> pd.DataFrame:
    """Of the stored events, the new applications accepted or applied, as
    ``JourneySnapshot.new_applications`` holds them."""
    taken = recorded["status"].isin([EventStatus.ACCEPTED, EventStatus.APPLIED])
    return recorded[taken & (recorded["kind"] == EventKind.NEW_APPLICATION)][["nrp_ref", "pwc_ref", "received_on"]]


def already_recorded(checked: pd.DataFrame, recorded: pd.DataFrame) -> pd.Series:
    """Whether each checked event (``validate_events``' rows) was taken already: the same event
    (``EVENT_IDENTITY``) is stored accepted or applied (``recorded``: the stored events, with
    ``status``), or an earlier line of this input is it and was accepted. Such an event is
    neither stored nor refused again: an import run twice, or a ``record`` repeated, records
    each event once. (One stored refused is checked afresh: the journey may take it now.)"""
    if checked.empty:
        return pd.Series([], index=checked.index, dtype=bool)
    given = _identities(checked)
    taken = recorded[recorded["status"] != EventStatus.REFUSED]
    positions = pd.Series(np.arange(len(given)), index=given.index)
    accepted = checked["refusal"].isna()
    first_accepted = positions[accepted].groupby(given[accepted].to_numpy()).min()
    earlier = given.map(first_accepted).lt(positions).fillna(False).astype(bool)
    return given.isin(set(_identities(taken))).astype(bool) | earlier


def refused_again(checked: pd.DataFrame, recorded: pd.DataFrame) -> pd.Series:
    """Whether each refused event is one whose refusal the audit trail holds already (stored
    refused, or an earlier line of this input): it is told again, not stored again."""
    given = _identities(checked)
    refused = checked["refusal"].notna()
    kept = recorded[recorded["status"] == EventStatus.REFUSED]
    return (refused & (given.isin(set(_identities(kept))) | given.duplicated())).astype(bool)


def _identities(events: pd.DataFrame) -> pd.Series:
    """Each event's ``EVENT_IDENTITY`` as one text, missing values included."""
    if events.empty:
        return pd.Series([], index=events.index, dtype="str")
    columns = events[list(EVENT_IDENTITY)].astype({"received_on": "datetime64[ns]"}).astype("string").fillna("\x00")
    first, *rest = EVENT_IDENTITY
    return columns[first].str.cat([columns[name] for name in rest], sep="\x1f")


def refusals_when_applied(
    events: pd.DataFrame, cases: pd.DataFrame, received_on: pd.Timestamp, rules: RuleSettings
) -> pd.Series:
    """Accepted events checked again as a run applies them, against ``cases`` as they stand
    (``read_case_states``' columns), as of the day they were received: the journey may have
    moved between recording and applying (section 8: what a run already did stays done).

    ``events``: the ``operator_event`` rows (``event_id``, ``kind``, ``case_ref``, ``value``,
    ``pwc_pence``, ``sos_pence``, ``channel``, ``received_on``). Returns each event's refusal
    (None where it still applies), on the events' index.
    """
    parsed = events.rename(columns={"case_ref": "csa_case_ref"}).assign(
        reason=None, caseworker=None, refusal=pd.Series(None, index=events.index, dtype=object)
    )
    still = JourneySnapshot(
        advanced_to=received_on,
        cases=cases,
        known_nrps=frozenset(),
        pending=pd.DataFrame(
            {"kind": pd.Series(dtype="str"), "case_ref": pd.Series(dtype="str"),
             "received_on": pd.Series(dtype="datetime64[ns]")}
        ),
    )
    return validate_events(parsed, still, rules)["refusal"]


def application_refusals(applications: pd.DataFrame, journey: JourneySnapshot) -> pd.Series:
    """A CMS application counts only while the case's liability is still running (section 3).

    Received on or after the selection; the journey must not have reached the liability end
    date yet (so, received on or before the clock, it is received before that date too).
    """
    case = _case_of(applications, journey.cases)
    end, selected = case["liability_end_date"], case["selected_on"]
    received = applications["received_on"]
    ended = case["liability_ended"].fillna(False).astype(bool) | (end <= journey.advanced_to)
    applied_on = (
        case["application_received_on"]
        .fillna(_pending_on(applications["csa_case_ref"], journey.pending, EventKind.APPLICATION))
        .fillna(_earlier_in_batch(_by_case(applications)))
    )
    return first_refusal(
        applications.index,
        [
            (end.isna(), "the case has no ongoing liability: it is arrears only"),
            (ended, "liability already ended on " + _iso(end)),
            (received < selected, "received before the case was selected on " + _iso(selected)),
            (applied_on.notna(), "already applied on " + _iso(applied_on)),
        ],
    )


def new_application_refusals(applications: pd.DataFrame, journey: JourneySnapshot) -> pd.Series:
    """A new application is one event: the same paying and receiving parents and received date
    again (an earlier line, or one recorded before) is refused, so an import run twice, or a
    row repeated, records it once."""
    key = ["nrp_ref", "pwc_ref", "received_on"]
    given = pd.MultiIndex.from_frame(applications[key])
    recorded = pd.MultiIndex.from_frame(journey.new_applications[key].astype(applications[key].dtypes))
    again = given.duplicated(keep="first") | given.isin(recorded)
    return first_refusal(
        applications.index,
        [
            (
                again,
                "already recorded: a new application naming " + applications["nrp_ref"]
                + " and " + applications["pwc_ref"] + ", received on "
                + _iso(applications["received_on"]),
            )
        ],
    )


def extension_request_refusals(
    requests: pd.DataFrame, journey: JourneySnapshot, rules: RuleSettings
) -> pd.Series:
    """One extension, asked on or before the deadline; an accepted, unapplied one counts (section 7)."""
    awaiting = awaiting_choice(journey, rules, pd.Series([], dtype="str"))
    return extension_refusals(_by_case(requests)[["case_ref", "received_on"]], awaiting)


def choice_refusals(
    choices: pd.DataFrame,
    journey: JourneySnapshot,
    rules: RuleSettings,
    extended_now: pd.Series,
) -> pd.Series:
    """The first answer by the (extended) deadline decides, and none before the decision (section 7).

    ``extended_now``: the cases whose extension this batch accepted.
    """
    awaiting = awaiting_choice(journey, rules, extended_now)
    refusals = answer_refusals(_by_case(choices)[["case_ref", "received_on"]], awaiting)
    decided_on = _case_of(choices, awaiting)["decided_on"]
    early = first_refusal(
        choices.index,
        [
            (
                choices["received_on"] < decided_on,
                "received before the arrears decision on " + _iso(decided_on),
            )
        ],
    )
    # Once the clock passes a deadline the run has closed the case, so a late answer finds it
    # no longer waiting: refuse it for what it is, late (section 7: "a clear error").
    case = _case_of(choices, journey.cases)
    closed_deadline = case["choice_deadline"].where(
        case["journey_state"] != JourneyState.AWAITING_CHOICE
    )
    late = first_refusal(
        choices.index,
        [
            (
                choices["received_on"] > closed_deadline,
                "received after the deadline " + _iso(closed_deadline) + ": the case is closed",
            )
        ],
    )
    return late.fillna(refusals).fillna(early)


def awaiting_choice(
    journey: JourneySnapshot, rules: RuleSettings, extended_now: pd.Series
) -> pd.DataFrame:
    """The cases awaiting a choice, with the deadline and answer pending events make current.

    Returns ``case_ref``, ``choice_deadline`` (extended by an accepted, unapplied extension),
    ``answered_on`` (an applied or accepted answer), ``extended`` and ``decided_on`` (the
    deadline less the choice window and any extension already applied).
    """
    cases = journey.cases[journey.cases["journey_state"] == JourneyState.AWAITING_CHOICE]
    extended = cases["extended"].fillna(False).astype(bool)
    deadline = cases["choice_deadline"]
    pending = journey.pending
    extension_pending = cases["case_ref"].isin(
        pd.concat([pending.loc[pending["kind"] == EventKind.EXTENSION, "case_ref"], extended_now])
    )
    original = deadline.mask(extended, add_days(deadline, -rules.extension_days))
    return pd.DataFrame(
        {
            "case_ref": cases["case_ref"],
            "choice_deadline": deadline.mask(
                extension_pending & ~extended, extended_deadline(deadline, rules)
            ),
            "answered_on": cases["choice_received_on"].fillna(
                _pending_on(cases["case_ref"], pending, EventKind.CHOICE)
            ),
            "extended": extended | extension_pending,
            "decided_on": add_days(original, -rules.choice_window_days),
        }
    )


def resolution_refusals(
    resolutions: pd.DataFrame, journey: JourneySnapshot, rules: RuleSettings
) -> pd.Series:
    """A hold is resolved once, to figures within bounds (section 5)."""
    cases = journey.cases
    verification = pd.DataFrame(
        {
            "case_ref": cases["case_ref"],
            "outcome": np.where(
                cases["journey_state"] == JourneyState.ON_HOLD,
                Verification.HOLD.value,
                Verification.VERIFIED.value,
            ),
            **{
                f"{source}_{creditor}_pence": cases[f"{source}_{creditor}_pence"]
                for source in ("ledger", "recorded")
                for creditor in ("pwc", "sos")
            },
        }
    )
    given = _by_case(resolutions).rename(columns={"value": "use"})
    refusals = hold_resolution_refusals(given, verification, rules)
    pending_on = _pending_on(resolutions["csa_case_ref"], journey.pending, EventKind.HOLD_RESOLUTION)
    resolved_on = pending_on.fillna(_earlier_in_batch(given))
    again = first_refusal(
        resolutions.index,
        [
            (
                resolved_on.notna(),
                "already resolved on " + _iso(resolved_on) + ", waiting for the next advance",
            )
        ],
    )
    return refusals.fillna(again)


def operator_event_rows(events: pd.DataFrame) -> pd.DataFrame:
    """The ``operator_event`` rows to store: every accepted event, and refused answers.

    Every answer, refused ones included, stays in the audit trail (section 7); an answer is
    kept only where its received date could be read, the day the trail is ordered by.
    """
    refused = events["refusal"].notna()
    answer = (events["kind"] == EventKind.CHOICE) & events["received_on"].notna()
    kept = events[~refused | answer]
    rows = kept.drop(columns=["refusal"]).assign(
        status=np.where(kept["refusal"].isna(), EventStatus.ACCEPTED.value, EventStatus.REFUSED.value),
        refusal=kept["refusal"],
    )
    return rows.astype({"pwc_pence": "Int64", "sos_pence": "Int64"})


def _clock_refusals(events: pd.DataFrame, advanced_to: pd.Timestamp | None) -> pd.Series:
    """Nothing is taken before the first ``advance``, nor received after the clock."""
    if advanced_to is None:
        return pd.Series("the journey has not been advanced yet", index=events.index, dtype="str")
    return first_refusal(
        events.index,
        [
            (
                events["received_on"] > advanced_to,
                "received "
                + _iso(events["received_on"])
                + f", after the date the journey has advanced to ({advanced_to:%Y-%m-%d})",
            )
        ],
    )


def _unknown_refusals(events: pd.DataFrame, journey: JourneySnapshot) -> pd.Series:
    """A case-bound event needs a selected case; a new application needs a known paying parent."""
    kind = events["kind"]
    return first_refusal(
        events.index,
        [
            (
                kind.isin(CASE_EVENTS) & ~events["csa_case_ref"].isin(journey.cases["case_ref"]),
                "unknown case " + events["csa_case_ref"].fillna("") + ": not selected for closure",
            ),
            (
                (kind == EventKind.NEW_APPLICATION) & ~events["nrp_ref"].isin(journey.known_nrps),
                "unknown NRP " + events["nrp_ref"].fillna("") + ": not the paying parent of a known case",
            ),
        ],
    )


def _refuse_open(
    refusal: pd.Series,
    events: pd.DataFrame,
    kind: EventKind,
    rule: Callable[[pd.DataFrame], pd.Series],
) -> pd.Series:
    """Apply one kind's rule to its events not refused yet, so a refused one blocks nothing."""
    open_events = events[(events["kind"] == kind) & refusal.isna()]
    return refusal if open_events.empty else refusal.fillna(rule(open_events))


def _case_of(events: pd.DataFrame, cases: pd.DataFrame) -> pd.DataFrame:
    """The row of ``cases`` each event names, aligned with the events."""
    column = "csa_case_ref" if "csa_case_ref" in events else "case_ref"
    found = cases.drop_duplicates("case_ref").set_index("case_ref").reindex(events[column])
    return found.set_axis(events.index)


def _by_case(events: pd.DataFrame) -> pd.DataFrame:
    """Events with the ``case_ref`` column the section 5 and 7 rules take."""
    return events.rename(columns={"csa_case_ref": "case_ref"})


def _pending_on(case_refs: pd.Series, pending: pd.DataFrame, kind: EventKind) -> pd.Series:
    """For each case, when an accepted event of ``kind`` not yet applied was received (or NaT)."""
    first = pending[pending["kind"] == kind].groupby("case_ref")["received_on"].min()
    return pd.Series(first.reindex(case_refs.to_numpy()).to_numpy(), index=case_refs.index)


def _code(text: pd.Series, names: Mapping[str, StrEnum]) -> pd.Series:
    """The code an operator's word names, or the text as given where it names none."""
    return text.str.lower().map({name: code.value for name, code in names.items()}).fillna(text)


def _pence(text: pd.Series) -> pd.Series:
    """Whole pence (nullable): empty or malformed text, or more digits than int64 holds, is
    missing."""
    whole = text.where(text.str.fullmatch(rf"-?\d{{1,{MAX_PENCE_DIGITS}}}"))
    return pd.to_numeric(whole, errors="coerce").astype("Int64")


def _iso(dates: pd.Series) -> pd.Series:
    return dates.dt.strftime("%Y-%m-%d")
