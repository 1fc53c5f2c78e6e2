"""The journey's steps over a batch: EXAMPLES.md A and B, holds, answers and conservation."""

import pandas as pd
from rules_builders import arrears_ledger, case, cases, example_a_case, example_a_ledger, ledger

from csa_closure.settings import RuleSettings
from transform.journey import (
    JourneyChanges,
    end_liability,
    extend_deadlines,
    record_applications,
    resolve,
    send_reminders,
    settle_choices,
    start_journeys,
)

RULES = RuleSettings()


def selection(case_refs, segment, selected_on, tranche="T0001", liability_end=None):
    return pd.DataFrame(
        {
            "case_ref": case_refs,
            "tranche_id": tranche,
            "batch_id": f"{tranche}-B001",
            "segment": segment,
            "selected_on": pd.Timestamp(selected_on),
            "liability_end_date": pd.Timestamp(liability_end) if liability_end else pd.NaT,
        }
    )


def outcome(changes: JourneyChanges, case_ref: str) -> pd.Series:
    return changes.outcomes.set_index("case_ref").loc[case_ref]


def assert_conserved(changes: JourneyChanges) -> None:
    """RULEBOOK section 11 for every case: arrears = transferred + written off + pending, or
    the whole ledger balance on hold; written-off and transferred rows add up to the totals."""
    for row in changes.outcomes.itertuples():
        if row.journey_state == "ON_HOLD":
            assert pd.isna(row.arrears_pwc_pence) and row.pending_pence == 0
            continue
        arrears = row.arrears_pwc_pence + row.arrears_sos_pence
        assert arrears == row.transferred_pence + row.written_off_pence + row.pending_pence
        assert row.on_hold_pence == 0


def test_example_a_arrears_only_case_is_decided_on_selection_and_transferred_on_collect():
    started = start_journeys(
        selection(["C930099001"], 6, "2015-06-01"), example_a_case(), example_a_ledger(), RULES
    )
    got = outcome(started, "C930099001")
    assert got["journey_state"] == "AWAITING_CHOICE"
    assert (got["written_off_pence"], got["pending_pence"]) == (40_000, 175_000)
    assert got["choice_deadline"] == pd.Timestamp("2015-07-01")
    assert pd.isna(got["liability_end_date"])
    assert started.events[["from_state", "to_state", "cause"]].values.tolist() == [
        [None, "AWAITING_CHOICE", "DECISION"]
    ]
    assert started.write_offs[["creditor", "reason", "amount_pence"]].values.tolist() == [
        ["SOS", "SOS_NON_PAYING", 40_000]
    ]
    assert set(map(tuple, started.letters[["template", "recipient_role"]].values)) == {
        ("ARREARS_WRITTEN_OFF", "NRP"),
        ("ARREARS_CHOICE", "PWC"),
    }
    assert_conserved(started)

    answers = pd.DataFrame(
        {"case_ref": ["C930099001"], "choice": ["COLLECT"],
         "received_on": [pd.Timestamp("2015-06-20")], "channel": ["post"]}
    )
    settled = settle_choices(
        started.outcomes, started.journeys, example_a_case(), answers, pd.Timestamp("2015-06-25")
    )
    got = outcome(settled, "C930099001")
    assert (got["journey_state"], got["choice"], got["transferred_pence"]) == ("CLOSED", "COLLECT", 175_000)
    transfer = settled.transfers.iloc[0]
    assert (transfer["creditor"], transfer["amount_pence"]) == ("PWC", 175_000)
    assert transfer["transferred_on"] == pd.Timestamp("2015-06-20")
    assert (transfer["accrued_from"], transfer["accrued_to"]) == (
        pd.Timestamp("1994-09-01"), pd.Timestamp("2000-03-01")
    )
    assert settled.cms_openings.values.tolist() == [
        ["C930099001", "ARREARS_ONLY", pd.Timestamp("2015-06-20")]
    ]
    assert settled.events["cause"].tolist() == ["CHOICE"]
    assert_conserved(settled)


def example_b_case() -> pd.DataFrame:
    return case(
        case_ref="S030099002", scheme="2003", case_start_date=pd.Timestamp("2008-08-31"),
        recorded_total_pence=40_000, recorded_sos_pence=0,
    )


def test_example_b_liability_journey_with_direct_pay_application():
    cases_b = example_b_case()
    ledger_b = arrears_ledger("S030099002", pwc=40_000)
    started = start_journeys(selection(["S030099002"], 2, "2014-08-31"), cases_b, ledger_b, RULES)
    got = outcome(started, "S030099002")
    assert (got["journey_state"], got["liability_end_date"]) == (
        "AWAITING_LIABILITY_END", pd.Timestamp("2015-02-28")
    )
    assert started.journeys.iloc[0]["reminder_on"] == pd.Timestamp("2015-01-28")
    assert sorted(started.letters["recipient_role"]) == ["NRP", "PWC"]
    assert set(started.letters["template"]) == {"INITIAL_NOTICE"}
    assert got["pending_pence"] == 40_000
    assert_conserved(started)

    reminded = send_reminders(started.outcomes, started.journeys, cases_b)
    assert set(reminded.letters["created_on"]) == {pd.Timestamp("2015-01-28")}
    applied = record_applications(
        reminded.outcomes,
        reminded.journeys,
        pd.DataFrame({"case_ref": ["S030099002"], "service_type": ["DIRECT_PAY"],
                      "received_on": [pd.Timestamp("2014-12-10")]}),
    )
    ended = end_liability(
        applied.outcomes, applied.journeys, cases_b, ledger_b, pd.Timestamp("2015-02-28"), RULES
    )
    got = outcome(ended, "S030099002")
    assert (got["journey_state"], got["written_off_pence"]) == ("CLOSED", 40_000)
    assert ended.write_offs["reason"].tolist() == ["NOT_COST_EFFECTIVE"]
    assert ended.cms_openings.values.tolist() == [
        ["S030099002", "DIRECT_PAY", pd.Timestamp("2015-02-28")]
    ]
    assert ended.transfers.empty
    assert set(map(tuple, ended.letters[["template", "recipient_role"]].values)) == {
        ("LIABILITY_ENDED", "PWC"), ("LIABILITY_ENDED", "NRP"),
        ("ARREARS_WRITTEN_OFF", "PWC"), ("ARREARS_WRITTEN_OFF", "NRP"),
    }
    assert ended.events[["from_state", "to_state"]].values.tolist() == [
        ["AWAITING_LIABILITY_END", "CLOSED"]
    ]
    assert_conserved(ended)


def test_hold_at_selection_still_ends_liability_on_time_and_resolution_decides_on_the_run_date():
    held_case = case(case_ref="C930000001", recorded_total_pence=190_000)  # ledger: 220,000
    lines = arrears_ledger("C930000001", pwc=220_000)
    started = start_journeys(selection(["C930000001"], 2, "2014-08-01"), held_case, lines, RULES)
    got = outcome(started, "C930000001")
    assert (got["journey_state"], got["hold_reason"], got["on_hold_pence"]) == (
        "ON_HOLD", "MISMATCH", 220_000
    )
    assert pd.isna(got["arrears_pwc_pence"])
    assert set(started.letters["template"]) == {"INITIAL_NOTICE"}
    ended = end_liability(
        started.outcomes, started.journeys, held_case, lines, pd.Timestamp("2015-02-01"), RULES
    )
    assert outcome(ended, "C930000001")["journey_state"] == "ON_HOLD"
    assert set(ended.letters["template"]) == {"LIABILITY_ENDED"}
    assert ended.journeys.iloc[0]["liability_ended"]
    resolution = pd.DataFrame(
        {"case_ref": ["C930000001"], "use": ["recorded"], "pwc_pence": [pd.NA],
         "sos_pence": [pd.NA], "resolved_on": [pd.Timestamp("2015-03-02")]}
    )
    resolved = resolve(
        ended.outcomes, ended.journeys, held_case, lines, resolution, pd.Timestamp("2015-03-09"), RULES
    )
    got = outcome(resolved, "C930000001")
    assert (got["arrears_pwc_pence"], got["journey_state"]) == (190_000, "AWAITING_CHOICE")
    assert got["choice_deadline"] == pd.Timestamp("2015-04-08")  # decided 2015-03-09 + 30 days
    assert got["hold_reason"] == "MISMATCH"  # the last hold, kept after it is resolved
    assert resolved.events[["from_state", "to_state", "cause"]].values.tolist() == [
        ["ON_HOLD", "AWAITING_CHOICE", "HOLD_RESOLUTION"]
    ]
    assert_conserved(resolved)


def test_hold_resolved_before_liability_end_waits_and_is_decided_on_the_end_date():
    held_case = case(case_ref="C930000001", recorded_total_pence=90_000)
    lines = arrears_ledger("C930000001", pwc=120_000)
    started = start_journeys(selection(["C930000001"], 2, "2014-08-01"), held_case, lines, RULES)
    resolution = pd.DataFrame(
        {"case_ref": ["C930000001"], "use": ["ledger"], "pwc_pence": [pd.NA],
         "sos_pence": [pd.NA], "resolved_on": [pd.Timestamp("2014-09-01")]}
    )
    resolved = resolve(
        started.outcomes, started.journeys, held_case, lines, resolution,
        pd.Timestamp("2014-09-05"), RULES,
    )
    assert outcome(resolved, "C930000001")["journey_state"] == "AWAITING_LIABILITY_END"
    assert resolved.events["effective_date"].tolist() == [pd.Timestamp("2014-09-01")]
    ended = end_liability(
        resolved.outcomes, resolved.journeys, held_case, lines, pd.Timestamp("2015-02-01"), RULES
    )
    got = outcome(ended, "C930000001")
    assert (got["journey_state"], got["pending_pence"]) == ("AWAITING_CHOICE", 120_000)
    assert_conserved(ended)


def resolved_by(use: str, on: str, pwc: int | None = None, sos: int | None = None) -> pd.DataFrame:
    return pd.DataFrame(
        {"case_ref": ["C930000001"], "use": [use], "pwc_pence": [pwc if pwc is not None else pd.NA],
         "sos_pence": [sos if sos is not None else pd.NA], "resolved_on": [pd.Timestamp(on)]}
    )


def test_a_second_resolution_after_a_hold_at_liability_end_sets_the_arrears_to_its_figure():
    held_case = case(case_ref="C930000001", recorded_total_pence=300_000)
    lines = arrears_ledger("C930000001", pwc=200_000)
    started = start_journeys(selection(["C930000001"], 2, "2014-08-01"), held_case, lines, RULES)
    first = resolve(started.outcomes, started.journeys, held_case, lines,
                    resolved_by("recorded", "2014-09-01"), pd.Timestamp("2014-09-05"), RULES)
    assert outcome(first, "C930000001")["arrears_pwc_pence"] == 300_000
    later = pd.concat([lines, ledger(("C930000001", 7, "2014-11-01", "CHARGE", "PWC", 50_000,
                                     "2014-10-01", "2014-10-31"))], ignore_index=True)
    ended = end_liability(first.outcomes, first.journeys, held_case, later, pd.Timestamp("2015-02-01"), RULES)
    assert (outcome(ended, "C930000001")["journey_state"], outcome(ended, "C930000001")["on_hold_pence"]) == (
        "ON_HOLD", 350_000  # the legacy ledger's 250,000 and the first resolution's 100,000
    )
    second = resolve(ended.outcomes, ended.journeys, held_case, later,
                     resolved_by("amount", "2015-03-02", pwc=320_000, sos=0), pd.Timestamp("2015-03-09"), RULES)
    got = outcome(second, "C930000001")
    assert (got["arrears_pwc_pence"], got["pending_pence"]) == (320_000, 320_000)
    assert second.journeys.iloc[0]["adjust_pwc_pence"] == 70_000  # against the legacy ledger
    assert_conserved(second)


def test_a_resolution_applies_to_the_ledger_as_it_stands_when_the_figure_is_resolved():
    held_case = case(case_ref="C930000001", status="ARREARS_ONLY", recorded_total_pence=300_000)
    lines = arrears_ledger("C930000001", pwc=200_000)
    started = start_journeys(selection(["C930000001"], 6, "2014-09-01"), held_case, lines, RULES)
    assert outcome(started, "C930000001")["on_hold_pence"] == 200_000
    paid_since = pd.concat([lines, ledger(("C930000001", 9, "2014-09-15", "RECEIPT", "PWC", -5_000))],
                           ignore_index=True)
    recorded = resolve(started.outcomes, started.journeys, held_case, paid_since,
                       resolved_by("recorded", "2014-10-02"), pd.Timestamp("2014-10-03"), RULES)
    assert outcome(recorded, "C930000001")["arrears_pwc_pence"] == 300_000
    assert_conserved(recorded)
    ledger_figure = resolve(started.outcomes, started.journeys, held_case, paid_since,
                            resolved_by("ledger", "2014-10-02"), pd.Timestamp("2014-10-03"), RULES)
    assert outcome(ledger_figure, "C930000001")["arrears_pwc_pence"] == 195_000  # the receipt counts


def test_no_answer_by_the_extended_deadline_is_written_off_the_day_after():
    two = cases(
        {"case_ref": "C930000001", "recorded_total_pence": 200_000},
        {"case_ref": "C930000002", "recorded_total_pence": 200_000},
    )
    lines = pd.concat(
        [arrears_ledger("C930000001", pwc=200_000), arrears_ledger("C930000002", pwc=200_000)]
    )
    started = start_journeys(
        selection(["C930000001", "C930000002"], 6, "2015-06-01"), two, lines, RULES
    )
    assert set(started.outcomes["journey_state"]) == {"AWAITING_CHOICE"}
    extended = extend_deadlines(started.outcomes.iloc[[1]], started.journeys, RULES)
    assert extended.outcomes.iloc[0]["choice_deadline"] == pd.Timestamp("2015-07-29")
    current = started.then(extended)
    no_answers = pd.DataFrame(columns=["case_ref", "choice", "received_on", "channel"])
    settled = settle_choices(
        current.outcomes, current.journeys, two, no_answers, pd.Timestamp("2015-07-02")
    )
    assert settled.outcomes["case_ref"].tolist() == ["C930000001"]
    assert settled.write_offs[["reason", "decided_on"]].values.tolist() == [
        ["NO_RESPONSE", pd.Timestamp("2015-07-02")]
    ]
    assert settled.events["cause"].tolist() == ["NO_RESPONSE"]
    assert_conserved(current.then(settled))
