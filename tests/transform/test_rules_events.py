"""Section 8, what operations record: one test per refusal of each event, and the window edges."""

from __future__ import annotations

from dataclasses import replace

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from csa_closure.settings import RuleSettings
from extract.systems import person_ref_formats
from transform import events as recording
from transform.events import JourneySnapshot, operator_event_rows, parse_events, validate_events

RULES = RuleSettings()
CLOCK = pd.Timestamp("2015-08-15")
LIVE = "C930000001"  # selected 2015-05-04, liability ends 2015-11-04
CHOOSING = "C930000002"  # decided 2015-06-01, answer due by 2015-07-01
HELD = "S030000003"  # on hold: ledger PWC 30,000 and SoS -500; recorded 29,000 and 0
ARREARS_ONLY = "C930000004"  # segment 6: no liability to end
KNOWN_NRP = "P000000001"
def parse(raw: pd.DataFrame) -> pd.DataFrame:
    """The operator's events, parents named in the registered legacy systems' formats."""
    return parse_events(raw, person_ref_formats())


DATE_COLUMNS = (
    "selected_on", "liability_end_date", "choice_deadline", "application_received_on",
    "choice_received_on",
)


def case(ref: str, **changes) -> dict:
    row = dict(
        case_ref=ref, journey_state="AWAITING_LIABILITY_END", selected_on="2015-05-04",
        liability_end_date="2015-11-04", choice_deadline=None, liability_ended=False,
        extended=False, application_received_on=None, choice_received_on=None,
        ledger_pwc_pence=None, ledger_sos_pence=None, recorded_pwc_pence=0, recorded_sos_pence=0,
    )
    return row | changes


CASES = {
    LIVE: case(LIVE),
    CHOOSING: case(
        CHOOSING, journey_state="AWAITING_CHOICE", selected_on="2014-12-01",
        liability_end_date="2015-06-01", liability_ended=True, choice_deadline="2015-07-01",
    ),
    HELD: case(
        HELD, journey_state="ON_HOLD", ledger_pwc_pence=30_000, ledger_sos_pence=-500,
        recorded_pwc_pence=29_000, recorded_sos_pence=0,
    ),
    ARREARS_ONLY: case(ARREARS_ONLY, journey_state="CLOSED", liability_end_date=None),
}


def snapshot(clock=CLOCK, pending=(), **changed: dict) -> JourneySnapshot:
    """The journey as of ``clock``; ``changed`` maps a case reference to changed columns."""
    rows = [CASES[ref] | changed.get(ref, {}) for ref in CASES]
    cases = pd.DataFrame(rows)
    for column in DATE_COLUMNS:
        cases[column] = pd.to_datetime(cases[column]).astype("datetime64[ns]")
    waiting = pd.DataFrame(list(pending), columns=["kind", "case_ref", "received_on"])
    waiting["received_on"] = pd.to_datetime(waiting["received_on"]).astype("datetime64[ns]")
    return JourneySnapshot(
        advanced_to=clock, cases=cases, known_nrps=frozenset({KNOWN_NRP}), pending=waiting
    )


def refusals(*events: dict, journey: JourneySnapshot | None = None) -> list[str | None]:
    """The refusal of each event, in order (None when accepted)."""
    checked = validate_events(parse(pd.DataFrame(list(events))), journey or snapshot(), RULES)
    return [None if pd.isna(r) else r for r in checked["refusal"]]


def refusal(event: dict, journey: JourneySnapshot | None = None) -> str | None:
    return refusals(event, journey=journey)[0]


def application(received="2015-06-10", case=LIVE, service="direct-pay") -> dict:
    return dict(event="application", case=case, service=service, received=received)


def choice(received="2015-06-20", case=CHOOSING, answer="collect", channel="") -> dict:
    return dict(event="choice", case=case, choice=answer, received=received, channel=channel)


def extension(received="2015-06-25", case=CHOOSING) -> dict:
    return dict(event="extension", case=case, received=received)


def resolution(use="ledger", case=HELD, pwc="", sos="", reason="ledger checked", by="A Caseworker") -> dict:
    return dict(event="hold-resolution", case=case, use=use, pwc_pence=pwc, sos_pence=sos, reason=reason, by=by)


def new_application(nrp=KNOWN_NRP, pwc="P000000777", received="2015-06-10") -> dict:
    return dict(event="new-application", nrp=nrp, pwc=pwc, received=received)


EVERY_EVENT = [
    application(), new_application(), choice(), extension(), resolution("amount", pwc="1", sos="0"),
]


# --- malformed input -----------------------------------------------------------------------


def test_unknown_event_refused():
    assert refusal(dict(event="complaint", case=LIVE, received="2015-06-10")) == (
        "event must be application, new-application, choice, extension or hold-resolution, "
        "not 'complaint'"
    )


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (application(service=""), "service"),
        (application(case=""), "case"),
        (new_application(pwc=""), "pwc"),
        (new_application(nrp=""), "nrp"),
        (choice(answer=""), "choice"),
        (extension(received=""), "received"),
        (resolution(reason=""), "reason"),
        (resolution(by=""), "by"),
        (resolution(use=""), "use"),
    ],
)
def test_missing_field_refused(event, field):
    assert refusal(event) == f"{field} is missing"


@pytest.mark.parametrize("received", ["2015-13-01", "10/06/2015", "yesterday"])
def test_malformed_received_date_refused(received):
    assert refusal(application(received=received)) == (
        f"received must be a date as YYYY-MM-DD, not '{received}'"
    )


def test_unknown_service_refused():
    assert refusal(application(service="cash")) == (
        "service must be direct-pay or collect-and-pay, not 'cash'"
    )


def test_unknown_choice_refused():
    assert refusal(choice(answer="maybe")) == "choice must be collect or write-off, not 'maybe'"


def test_unknown_use_refused():
    assert refusal(resolution(use="guess")) == "use must be ledger or recorded or amount, not 'guess'"


@pytest.mark.parametrize("pence", ["12.50", "£3", "ten"])
def test_malformed_amount_refused(pence):
    assert refusal(resolution("amount", pwc=pence, sos="0")) == (
        f"pwc_pence must be whole pence, not '{pence}'"
    )


def test_malformed_pwc_reference_refused():
    assert refusal(new_application(pwc="P12")) == (
        "pwc must be a person reference (P + 9 digits or CS2-<digits>), not 'P12'"
    )


def test_channel_longer_than_40_characters_refused_and_40_accepted():
    assert refusal(choice(channel="x" * 41)) == "channel must be at most 40 characters"
    assert refusal(choice(channel="x" * 40)) is None


def test_operator_words_become_codes_and_the_channel_defaults_to_post():
    events = parse(
        pd.DataFrame([application(service="Collect-And-Pay"), choice(answer="write-off"), resolution()])
    )
    assert events["value"].tolist() == ["COLLECT_AND_PAY", "WRITE_OFF", "ledger"]
    assert events["channel"].tolist()[1] == "post"
    assert events["kind"].tolist() == ["APPLICATION", "CHOICE", "HOLD_RESOLUTION"]


# --- the clock and unknown references ------------------------------------------------------


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: e["event"])
def test_every_event_refused_before_the_journey_has_been_advanced(event):
    assert refusal(event, snapshot(clock=None)) == "the journey has not been advanced yet"


@pytest.mark.parametrize("event", EVERY_EVENT, ids=lambda e: e["event"])
def test_every_event_accepted_as_given(event):
    assert refusal(event) is None


def test_received_on_the_clock_day_accepted_and_the_day_after_refused():
    assert refusal(application(received="2015-08-15")) is None
    assert refusal(application(received="2015-08-16")) == (
        "received 2015-08-16, after the date the journey has advanced to (2015-08-15)"
    )
    assert refusal(new_application(received="2015-08-16")).startswith("received 2015-08-16, after")


@pytest.mark.parametrize(
    "event",
    [application(case="C930099999"), choice(case="C930099999"), extension(case="C930099999"),
     resolution(case="C930099999")],
    ids=lambda e: e["event"],
)
def test_unknown_case_refused(event):
    assert refusal(event) == "unknown case C930099999: not selected for closure"


def test_new_application_naming_an_unknown_nrp_refused():
    assert refusal(new_application(nrp="P000000999")) == (
        "unknown NRP P000000999: not the paying parent of a known case"
    )


def test_a_new_application_recorded_again_refused():
    assert refusals(new_application(), new_application(pwc="p000000777"), new_application(received="2015-06-11")) == [
        None,
        "already recorded: a new application naming P000000001 and P000000777, received on 2015-06-10",
        None,
    ]
    recorded = pd.DataFrame(
        {"nrp_ref": [KNOWN_NRP], "pwc_ref": ["P000000777"], "received_on": [pd.Timestamp("2015-06-10")]}
    )
    journey = replace(snapshot(), new_applications=recorded)
    assert refusal(new_application(), journey) == (
        "already recorded: a new application naming P000000001 and P000000777, received on 2015-06-10"
    )
    assert refusal(new_application(pwc="P000000778"), journey) is None


def test_no_field_holds_a_control_character_and_a_refusal_shows_them_escaped():
    assert refusal(application(received="2015-06\n10\x00\x1b[2J")) == (
        "received must not hold control characters, not '2015-06\\n10\\x00\\x1b[2J'"
    )
    assert refusal(application(case="C93\r\n0000001")) == (
        "case must not hold control characters, not 'C93\\r\\n0000001'"
    )
    assert refusal(application(service="ca\x85sh")) == "service must not hold control characters, not 'ca\\x85sh'"
    events = parse(pd.DataFrame([application(case="C93\x000000001")]))
    assert events.loc[0, "csa_case_ref"] == "C93\\X000000001"  # stored escaped: PostgreSQL's text holds no NUL


def test_references_are_read_whatever_their_letter_case():
    assert refusal(application(case=LIVE.lower())) is None


# --- application ---------------------------------------------------------------------------


def test_application_for_an_arrears_only_case_refused():
    assert refusal(application(case=ARREARS_ONLY)) == (
        "the case has no ongoing liability: it is arrears only"
    )


def test_application_after_the_journey_ended_the_liability_refused():
    ended = snapshot(clock=pd.Timestamp("2015-11-04"))
    assert refusal(application(received="2015-11-03"), ended) == "liability already ended on 2015-11-04"
    assert refusal(application(received="2015-06-10", case=CHOOSING)) == (
        "liability already ended on 2015-06-01"
    )


def test_application_window_opens_on_the_selection_date():
    assert refusal(application(received="2015-05-04")) is None
    assert refusal(application(received="2015-05-03")) == (
        "received before the case was selected on 2015-05-04"
    )


def test_second_application_refused():
    applied = snapshot(**{LIVE: {"application_received_on": "2015-05-20"}})
    assert refusal(application(), applied) == "already applied on 2015-05-20"
    waiting = snapshot(pending=[("APPLICATION", LIVE, "2015-05-21")])
    assert refusal(application(), waiting) == "already applied on 2015-05-21"
    assert refusals(application("2015-06-10"), application("2015-06-01")) == [
        "already applied on 2015-06-01",
        None,
    ]


# --- choice and extension: both wait on the choice deadline --------------------------------


@pytest.mark.parametrize("event", [choice, extension], ids=["choice", "extension"])
def test_choice_or_extension_for_a_case_not_awaiting_a_choice_refused(event):
    assert refusal(event(case=LIVE)) == "the case is not awaiting a choice"


@pytest.mark.parametrize(
    ("event", "late"), [(choice, "received after"), (extension, "requested after")], ids=["choice", "extension"]
)
def test_choice_or_extension_on_the_deadline_day_accepted_and_the_day_after_refused(event, late):
    assert refusal(event(received="2015-07-01")) is None
    assert refusal(event(received="2015-07-02")) == f"{late} the deadline 2015-07-01"


# --- choice --------------------------------------------------------------------------------


def test_choice_after_the_deadline_of_a_case_the_lapse_closed_refused_as_late():
    lapsed = snapshot(**{CHOOSING: dict(journey_state="CLOSED")})
    assert refusal(choice(received="2015-07-02"), lapsed) == (
        "received after the deadline 2015-07-01: the case is closed"
    )
    assert refusal(choice(received="2015-07-01"), lapsed) == "the case is not awaiting a choice"


def test_choice_on_the_decision_day_accepted_and_the_day_before_refused():
    assert refusal(choice(received="2015-06-01")) is None
    assert refusal(choice(received="2015-05-31")) == "received before the arrears decision on 2015-06-01"


def test_second_choice_refused():
    answered = snapshot(**{CHOOSING: {"choice_received_on": "2015-06-10"}})
    assert refusal(choice(), answered) == "already answered on 2015-06-10"
    waiting = snapshot(pending=[("CHOICE", CHOOSING, "2015-06-11")])
    assert refusal(choice(), waiting) == "already answered on 2015-06-11"
    assert refusals(choice("2015-06-20"), choice("2015-06-15")) == ["already answered on 2015-06-15", None]


def test_refused_choice_does_not_block_a_later_one():
    assert refusals(choice("2015-06-20", answer="maybe"), choice("2015-06-25")) == [
        "choice must be collect or write-off, not 'maybe'",
        None,
    ]


def test_extended_deadline_edge_when_the_extension_is_applied():
    extended = snapshot(**{CHOOSING: {"extended": True, "choice_deadline": "2015-07-29"}})
    assert refusal(choice(received="2015-07-29"), extended) is None
    assert refusal(choice(received="2015-07-30"), extended) == "received after the deadline 2015-07-29"
    assert refusal(choice(received="2015-05-31"), extended).startswith(
        "received before the arrears decision on 2015-06-01")


def test_extension_waiting_for_the_next_advance_moves_the_deadline():
    waiting = snapshot(pending=[("EXTENSION", CHOOSING, "2015-06-25")])
    assert refusal(choice(received="2015-07-29"), waiting) is None
    assert refusal(choice(received="2015-07-30"), waiting) == "received after the deadline 2015-07-29"


def test_extension_earlier_in_the_same_batch_moves_the_deadline():
    assert refusals(extension("2015-06-30"), choice("2015-07-20")) == [None, None]
    assert refusals(extension("2015-07-02"), choice("2015-07-20")) == [
        "requested after the deadline 2015-07-01",
        "received after the deadline 2015-07-01",
    ]


# --- extension -----------------------------------------------------------------------------


def test_second_extension_refused():
    extended = snapshot(**{CHOOSING: {"extended": True, "choice_deadline": "2015-07-29"}})
    assert refusal(extension(), extended) == "the deadline was already extended once"
    waiting = snapshot(pending=[("EXTENSION", CHOOSING, "2015-06-20")])
    assert refusal(extension(), waiting) == "the deadline was already extended once"
    assert refusals(extension("2015-06-25"), extension("2015-06-26")) == [
        None,
        "the deadline was already extended once",
    ]


# --- hold resolution -----------------------------------------------------------------------


def test_hold_resolution_for_a_case_not_on_hold_refused():
    assert refusal(resolution("recorded", case=LIVE)) == "the case is not on hold"


def test_amount_resolution_without_both_figures_refused():
    assert refusal(resolution("amount", pwc="100")) == ("an amount resolution needs both the PWC and the SoS pence")


def test_figures_given_with_the_ledger_or_the_record_refused():
    for use in ("ledger", "recorded"):
        assert refusal(resolution(use, pwc="5")) == (
            "the PWC and SoS pence go with an amount resolution only: the ledger's or the record's figures are "
            "taken as they are"
        )


def test_resolution_beyond_the_case_figures_or_int64_refused():
    assert refusal(resolution("amount", pwc="29600", sos="29600")) is None  # ledger 29,500 + tolerance
    assert refusal(resolution("amount", pwc="0", sos="29601")) == (
        "sos_pence must be at most 29600 pence for this case (its arrears on record, the larger of the "
        "ledger's and the recorded total, plus the tolerance), not 29601"
    )
    assert refusal(resolution("amount", pwc="100000000000", sos="0")) == (
        "pwc_pence must be at most 99999999999 pence, not 100000000000"
    )
    assert refusal(resolution("amount", pwc="0", sos="-9223372036854775809")) == (
        "sos_pence must be whole pence of at most 18 digits, not '-9223372036854775809'"
    )


@settings(deadline=None)
@given(st.text(alphabet="-0123456789", max_size=40), st.text(alphabet="-0123456789", max_size=40))
def test_any_digits_given_as_pence_are_accepted_within_bounds_or_refused_never_wrapped(pwc, sos):
    checked = validate_events(parse(pd.DataFrame([resolution("amount", pwc=pwc, sos=sos)])), snapshot(), RULES)
    if checked["refusal"].isna().all():
        assert 0 <= int(pwc) <= 29_600 and 0 <= int(sos) <= 29_600
        assert (checked.loc[0, "pwc_pence"], checked.loc[0, "sos_pence"]) == (int(pwc), int(sos))


def test_resolution_to_a_figure_below_zero_refused():
    assert refusal(resolution("ledger")) == "a resolved figure is below zero"
    assert refusal(resolution("amount", pwc="100", sos="-1")) == "a resolved figure is below zero"


def test_resolution_accepted_is_dated_the_clock_day():
    events = parse(pd.DataFrame([resolution("recorded")]))
    checked = validate_events(events, snapshot(), RULES)
    assert checked["refusal"].isna().all()
    assert checked["received_on"].tolist() == [CLOCK]


def test_second_resolution_refused():
    waiting = snapshot(pending=[("HOLD_RESOLUTION", HELD, "2015-08-01")])
    assert refusal(resolution("recorded"), waiting) == ("already resolved on 2015-08-01, waiting for the next advance")
    assert refusals(resolution("recorded"), resolution("amount", pwc="5", sos="5")) == [
        None,
        "already resolved on 2015-08-15, waiting for the next advance",
    ]


# --- what is stored ------------------------------------------------------------------------


def test_accepted_events_and_refused_answers_are_stored_nothing_else():
    events = parse(
        pd.DataFrame(
            [application(), choice("2015-07-02"), choice("not a date"), extension(case=LIVE), resolution("recorded")]
        )
    )
    rows = operator_event_rows(validate_events(events, snapshot(), RULES))
    stored = rows[["kind", "csa_case_ref", "status", "refusal", "received_on"]]
    assert stored.astype(object).where(stored.notna(), None).values.tolist() == [
        ["APPLICATION", LIVE, "ACCEPTED", None, pd.Timestamp("2015-06-10")],
        ["CHOICE", CHOOSING, "REFUSED", "received after the deadline 2015-07-01", pd.Timestamp("2015-07-02")],
        ["HOLD_RESOLUTION", HELD, "ACCEPTED", None, CLOCK],
    ]
    assert rows["value"].tolist() == ["DIRECT_PAY", "COLLECT", "recorded"]


def test_an_event_taken_before_is_recorded_once_and_one_refused_before_is_checked_afresh():
    events = parse(pd.DataFrame([choice(), choice(), extension(case=LIVE), choice("2015-07-02")]))
    checked = validate_events(events, snapshot(), RULES)
    first = operator_event_rows(checked.iloc[[0, 3]]).assign(status=["ACCEPTED", "REFUSED"])
    nothing_stored = first.iloc[0:0].assign(status=[])
    assert recording.already_recorded(checked, nothing_stored).tolist() == [False, True, False, False]
    assert recording.already_recorded(checked, first).tolist() == [True, True, False, False]
    # refused again, told and not kept twice: the answer given twice in the input, the late one
    assert recording.refused_again(checked, first).tolist() == [False, True, False, True]
    refused_first = first.assign(status="REFUSED")  # the journey may take it now: checked afresh
    assert recording.already_recorded(checked, refused_first).tolist() == [False, True, False, False]
