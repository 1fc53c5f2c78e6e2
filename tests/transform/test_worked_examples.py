"""EXAMPLES.md worked by the rules end to end: case A (arrears only) and case B (liability)."""

import pandas as pd
from rules_builders import case, decide, example_a_case, example_a_ledger, ledger

from csa_closure.settings import RuleSettings
from transform.allocation import allocate_payments
from transform.choice import apply_choices
from transform.dates import liability_end_date, reminder_date
from transform.instalments import instalment_schedule
from transform.letters import liability_journey_letters
from transform.segments import classify_segments
from transform.verification import verify_arrears

RULES = RuleSettings()
SELECTED_A = pd.Timestamp("2015-06-01")


def test_example_a_verification():
    got = verify_arrears(example_a_case(), example_a_ledger(), SELECTED_A, RULES).iloc[0]
    assert got["outcome"] == "VERIFIED"
    assert (got["ledger_pwc_pence"], got["ledger_sos_pence"]) == (175_000, 40_000)
    assert (got["recorded_pwc_pence"], got["recorded_sos_pence"]) == (175_000, 40_000)


def test_example_a_allocation_outstanding_figures():
    debits = allocate_payments(example_a_ledger())
    got = debits.set_index("line_ref")["outstanding_pence"].to_dict()
    assert got == {1: 0, 2: 20_000, 3: 150_000, 4: 40_000, 5: 0, 6: 5_000, 7: 0}  # 5, 7 credits


def test_example_a_decision_sos_written_off_pwc_asked():
    assert classify_segments(example_a_case(), SELECTED_A, RULES).iloc[0] == 6
    decision = decide(example_a_case(), example_a_ledger())
    summary = decision.cases.iloc[0]
    assert (summary["paying"], summary["case_age_years"]) == (False, 21)
    assert decision.parts[["creditor", "outcome", "amount_pence"]].values.tolist() == [
        ["SOS", "WRITE_OFF", 40_000],
        ["PWC", "AWAITING_CHOICE", 175_000],
    ]
    assert decision.parts["reason"].iloc[0] == "SOS_NON_PAYING"
    assert summary["choice_deadline"] == pd.Timestamp("2015-07-01")
    assert set(
        decision.letters[["template", "recipient_role"]].itertuples(index=False, name=None)
    ) == {
        ("ARREARS_WRITTEN_OFF", "NRP"),
        ("ARREARS_CHOICE", "PWC"),
    }
    assert decision.parts["amount_pence"].sum() == 215_000


def test_example_a_collect_answer_transfers_with_its_accrual_period_and_instalments():
    decision = decide(example_a_case(), example_a_ledger())
    pending = decision.parts[decision.parts["outcome"] == "AWAITING_CHOICE"]
    awaiting = pd.DataFrame(
        {
            "case_ref": pending["case_ref"].to_numpy(),
            "pending_pence": pending["amount_pence"].to_numpy(),
            "choice_deadline": decision.cases["choice_deadline"].to_numpy(),
            "nrp_untraced": [False],
            "nrp_abroad": [False],
        }
    )
    answers = pd.DataFrame(
        {
            "case_ref": ["C930099001"],
            "choice": ["COLLECT"],
            "received_on": [pd.Timestamp("2015-06-20")],
        }
    )
    outcome = apply_choices(awaiting, answers, pd.Timestamp("2015-06-21"))
    transfer = outcome.parts.iloc[0]
    assert (transfer["outcome"], transfer["amount_pence"], transfer["decided_on"]) == (
        "TRANSFER",
        175_000,
        pd.Timestamp("2015-06-20"),
    )
    accrued = decision.accrued.set_index("creditor").loc["PWC"]
    assert (accrued["accrued_from"], accrued["accrued_to"]) == (
        pd.Timestamp("1994-09-01"),
        pd.Timestamp("2000-03-01"),
    )
    lines = pd.DataFrame({"amount_pence": [175_000], "transferred_on": [transfer["decided_on"]]})
    instalments = instalment_schedule(lines, RULES)
    assert instalments["amount_pence"].tolist() == [4_861] * 35 + [4_865]
    assert instalments["due_on"].iloc[0] == pd.Timestamp("2015-07-01")
    assert instalments["due_on"].iloc[-1] == pd.Timestamp("2018-06-01")


def example_b():
    ref = "S030099002"
    frame = case(
        case_ref=ref,
        scheme="2003",
        legacy_case_id=99002,
        case_start_date=pd.Timestamp("2008-08-31"),
        weekly_liability_pence=1_500,
        payment_method="COLLECTION",
        recorded_total_pence=40_000,
        recorded_sos_pence=0,
    )
    lines = ledger(
        (ref, 501, "2012-12-01", "CHARGE", "PWC", 60_000, "2012-06-01", "2012-11-30"),
        (ref, 502, "2013-02-14", "RECEIPT", "PWC", -20_000),
    )
    return frame, lines


def test_example_b_dates_segment_letters_and_decision():
    frame, lines = example_b()
    selected = pd.Series([pd.Timestamp("2014-08-31")])
    frame = frame.assign(last_receipt_on=pd.Timestamp("2013-02-14"))
    assert classify_segments(frame, selected.iloc[0], RULES).iloc[0] == 2
    end = liability_end_date(selected, RULES)
    assert end.iloc[0] == pd.Timestamp("2015-02-28")
    assert reminder_date(end, RULES).iloc[0] == pd.Timestamp("2015-01-28")
    journey = pd.DataFrame(
        {
            "case_ref": frame["case_ref"],
            "selected_on": selected,
            "liability_end_date": end,
            "reactive": [False],
        }
    )
    letters = liability_journey_letters(journey, RULES)
    assert sorted(
        zip(letters["template"], letters["created_on"].dt.strftime("%Y-%m-%d"), strict=True)
    ) == sorted(
        [
            (t, d)
            for t, d in [
                ("INITIAL_NOTICE", "2014-08-31"),
                ("REMINDER", "2015-01-28"),
                ("LIABILITY_ENDED", "2015-02-28"),
            ]
        ]
        * 2
    )
    end_day = end.iloc[0]
    assert verify_arrears(frame, lines, end_day, RULES).loc[0, "outcome"] == "VERIFIED"
    decision = decide(frame.assign(decided_on=end_day), lines)
    assert decision.cases.loc[0, "case_age_years"] == 6
    assert decision.parts[["outcome", "reason", "amount_pence", "decided_on"]].values.tolist() == [
        ["WRITE_OFF", "NOT_COST_EFFECTIVE", 40_000, end_day]
    ]
    assert sorted(decision.letters["recipient_role"]) == ["NRP", "PWC"]
    assert (decision.letters["template"] == "ARREARS_WRITTEN_OFF").all()
