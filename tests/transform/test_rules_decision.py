"""Section 6, the arrears decision: one test per step of the table, with its boundaries."""

import pandas as pd
import pytest
from rules_builders import arrears_ledger, case, cases, decide, ledger

REF = "C930000001"
DECIDED = pd.Timestamp("2015-06-01")  # reference date: extract date 2014-06-30
YOUNG = pd.Timestamp("2010-01-10")  # case age 5
OLD = pd.Timestamp("1999-01-10")  # case age 16


def parts_of(decision) -> list[tuple]:
    return list(
        decision.parts[["creditor", "outcome", "reason", "amount_pence"]]
        .astype({"reason": object})
        .where(decision.parts.notna(), None)
        .itertuples(index=False, name=None)
    )


def letters_of(decision) -> set[tuple[str, str]]:
    assert (decision.letters["journey_event"] == "DECISION").all()
    return set(decision.letters[["template", "recipient_role"]].itertuples(index=False, name=None))


def test_step_1_nrp_deceased_all_arrears_written_off_letter_to_pwc():
    decision = decide(
        case(nrp_deceased=True, case_start_date=OLD),
        arrears_ledger(pwc=90_000, sos=10_000, receipt_on="2014-06-01"),
    )
    assert parts_of(decision) == [
        ("PWC", "WRITE_OFF", "NRP_DECEASED", 90_000),
        ("SOS", "WRITE_OFF", "NRP_DECEASED", 10_000),
    ]
    assert letters_of(decision) == {("ARREARS_WRITTEN_OFF", "PWC")}


def ima_ledger(period_from: str, period_to: str, *extra: tuple) -> pd.DataFrame:
    return ledger(
        (REF, 1, "1995-05-01", "IMA_CHARGE", "PWC", 30_000, period_from, period_to),
        (REF, 2, "1995-05-01", "IMA_CHARGE", "SOS", 8_000, period_from, period_to),
        (REF, 3, "1999-01-05", "CHARGE", "PWC", 200_000, "1998-12-01", "1998-12-31"),
        *extra,
    )


def test_step_2_ima_1993_1995_written_off_per_creditor_with_no_letter_of_its_own():
    decision = decide(case(case_start_date=OLD), ima_ledger("1993-04-05", "1995-04-18"))
    assert parts_of(decision) == [
        ("PWC", "WRITE_OFF", "IMA_1993_1995", 30_000),
        ("SOS", "WRITE_OFF", "IMA_1993_1995", 8_000),
        ("PWC", "AWAITING_CHOICE", None, 200_000),
    ]
    assert letters_of(decision) == {("ARREARS_CHOICE", "PWC")}


@pytest.mark.parametrize(
    ("period_from", "period_to"), [("1993-04-04", "1994-04-04"), ("1994-04-19", "1995-04-19")]
)
def test_step_2_charge_partly_outside_the_window_not_written_off(period_from, period_to):
    decision = decide(case(case_start_date=OLD), ima_ledger(period_from, period_to))
    assert "IMA_1993_1995" not in decision.parts["reason"].tolist()
    assert parts_of(decision)[-1] == ("PWC", "AWAITING_CHOICE", None, 230_000)


def test_step_2_only_the_outstanding_part_is_written_off():
    lines = ima_ledger(
        "1993-06-01", "1994-05-31", (REF, 4, "2001-01-01", "RECEIPT", "PWC", -25_000)
    )
    decision = decide(case(case_start_date=OLD), lines)
    assert parts_of(decision)[0] == ("PWC", "WRITE_OFF", "IMA_1993_1995", 5_000)


def test_step_2_applies_to_the_1993_scheme_only():
    decision = decide(
        case(scheme="2003", case_ref=REF, case_start_date=OLD),
        ima_ledger("1993-06-01", "1994-05-31"),
    )
    assert "IMA_1993_1995" not in decision.parts["reason"].tolist()


def test_step_3_paying_all_that_is_left_transferred_letter_to_both():
    decision = decide(
        case(case_start_date=YOUNG), arrears_ledger(pwc=3_000, sos=10_000, receipt_on="2014-05-01")
    )
    assert parts_of(decision) == [
        ("PWC", "TRANSFER", None, 3_000),
        ("SOS", "TRANSFER", None, 10_000),
    ]
    assert letters_of(decision) == {("ARREARS_TRANSFERRED", "PWC"), ("ARREARS_TRANSFERRED", "NRP")}
    assert decision.cases.loc[0, "paying"]


@pytest.mark.parametrize(("receipt_on", "paying"), [("2014-03-31", False), ("2014-04-01", True)])
def test_step_3_paying_boundary_receipt_in_the_91_days_ending_on_the_reference_date(
    receipt_on, paying
):
    decision = decide(
        case(case_start_date=YOUNG), arrears_ledger(pwc=100_000, receipt_on=receipt_on)
    )
    assert decision.cases.loc[0, "paying"] == paying
    assert (decision.parts.loc[0, "outcome"] == "TRANSFER") == paying


def test_step_3_receipt_after_the_extract_date_is_not_known():
    decision = decide(
        case(case_start_date=YOUNG), arrears_ledger(pwc=100_000, receipt_on="2014-07-15")
    )
    assert not decision.cases.loc[0, "paying"]


def test_step_4_sos_non_paying_written_off_letter_to_nrp():
    decision = decide(case(case_start_date=YOUNG), arrears_ledger(pwc=60_000, sos=10_000))
    assert parts_of(decision) == [
        ("SOS", "WRITE_OFF", "SOS_NON_PAYING", 10_000),
        ("PWC", "AWAITING_CHOICE", None, 60_000),
    ]
    assert letters_of(decision) == {("ARREARS_WRITTEN_OFF", "NRP"), ("ARREARS_CHOICE", "PWC")}


def test_step_5_pwc_deceased_pwc_part_written_off_with_no_letter():
    decision = decide(
        case(pwc_deceased=True, case_start_date=YOUNG), arrears_ledger(pwc=60_000, sos=10_000)
    )
    assert parts_of(decision) == [
        ("SOS", "WRITE_OFF", "SOS_NON_PAYING", 10_000),
        ("PWC", "WRITE_OFF", "PWC_DECEASED", 60_000),
    ]
    assert letters_of(decision) == {("ARREARS_WRITTEN_OFF", "NRP")}


def test_step_6_below_threshold_under_6500_pence_written_off_with_no_letter():
    decision = decide(case(case_start_date=YOUNG), arrears_ledger(pwc=6_499))
    assert parts_of(decision) == [("PWC", "WRITE_OFF", "BELOW_THRESHOLD", 6_499)]
    assert decision.letters.empty


def test_step_6_boundary_6500_pence_is_not_below_threshold():
    decision = decide(case(case_start_date=YOUNG), arrears_ledger(pwc=6_500))
    assert parts_of(decision) == [("PWC", "WRITE_OFF", "NOT_COST_EFFECTIVE", 6_500)]


@pytest.mark.parametrize(
    ("start", "pwc", "reason"),
    [
        (YOUNG, 50_000, "NOT_COST_EFFECTIVE"),
        (YOUNG, 50_001, None),
        (pd.Timestamp("2005-06-02"), 100_000, None),  # age 9 on 2015-06-01
        (pd.Timestamp("2005-06-01"), 100_000, "NOT_COST_EFFECTIVE"),  # age 10 exactly
        (pd.Timestamp("2005-06-01"), 100_001, None),
        (OLD, 100_000, "NOT_COST_EFFECTIVE"),
    ],
)
def test_step_7_not_cost_effective_thresholds_by_case_age(start, pwc, reason):
    decision = decide(case(case_start_date=start), arrears_ledger(pwc=pwc))
    assert parts_of(decision)[0][2] == reason
    expected = (
        {("ARREARS_WRITTEN_OFF", "PWC"), ("ARREARS_WRITTEN_OFF", "NRP")}
        if reason
        else {("ARREARS_CHOICE", "PWC")}
    )
    assert letters_of(decision) == expected


def test_step_8_otherwise_the_pwc_is_asked_with_a_deadline_30_days_on():
    decision = decide(case(case_start_date=YOUNG), arrears_ledger(pwc=75_000))
    assert parts_of(decision) == [("PWC", "AWAITING_CHOICE", None, 75_000)]
    assert decision.cases.loc[0, "choice_deadline"] == pd.Timestamp("2015-07-01")
    assert letters_of(decision) == {("ARREARS_CHOICE", "PWC")}
    assert (decision.letters["created_on"] == DECIDED).all()


def test_no_choice_deadline_unless_asked():
    decision = decide(case(case_start_date=YOUNG), arrears_ledger(pwc=5_000))
    assert pd.isna(decision.cases.loc[0, "choice_deadline"])


def test_zero_part_writes_no_row_and_sends_no_letter():
    decision = decide(case(case_start_date=YOUNG), arrears_ledger(pwc=75_000, sos=0))
    assert "SOS" not in decision.parts["creditor"].tolist()
    assert ("ARREARS_WRITTEN_OFF", "NRP") not in letters_of(decision)


def test_zero_verified_arrears_no_arrears_takes_no_decision():
    lines = ledger(
        (REF, 1, "2008-01-05", "CHARGE", "PWC", 500, "2007-12-01", "2007-12-31"),
        (REF, 2, "2008-02-05", "RECEIPT", "PWC", -500),
    )
    decision = decide(case(nrp_deceased=True), lines)
    assert decision.parts.empty and decision.letters.empty
    assert decision.cases.loc[0, "no_arrears"]


def test_one_letter_per_parent_when_two_steps_write_to_the_same_parent():
    decision = decide(case(case_start_date=YOUNG), arrears_ledger(pwc=20_000, sos=10_000))
    assert [r for _, r in decision.parts["reason"].items()] == [
        "SOS_NON_PAYING",
        "NOT_COST_EFFECTIVE",
    ]
    assert sorted(decision.letters["recipient_role"]) == ["NRP", "PWC"]
    assert (decision.letters["template"] == "ARREARS_WRITTEN_OFF").all()


def test_each_case_decided_on_its_own_date():
    frame = cases(
        {"case_ref": "A", "case_start_date": YOUNG, "decided_on": pd.Timestamp("2015-02-28")},
        {"case_ref": "B", "case_start_date": YOUNG, "decided_on": pd.Timestamp("2015-03-07")},
    )
    lines = pd.concat([arrears_ledger("A", pwc=80_000), arrears_ledger("B", pwc=80_000)])
    decision = decide(frame, lines)
    assert decision.parts["decided_on"].tolist() == [
        pd.Timestamp("2015-02-28"),
        pd.Timestamp("2015-03-07"),
    ]
    assert decision.cases["choice_deadline"].tolist() == [
        pd.Timestamp("2015-03-30"),
        pd.Timestamp("2015-04-06"),
    ]


def test_accrued_period_excludes_debits_written_off_under_step_2():
    decision = decide(case(case_start_date=OLD), ima_ledger("1993-06-01", "1994-05-31"))
    assert decision.accrued.to_dict("records") == [
        {
            "case_ref": REF,
            "creditor": "PWC",
            "accrued_from": pd.Timestamp("1998-12-01"),
            "accrued_to": pd.Timestamp("1998-12-31"),
        }
    ]  # the SoS part was all step-2 charges: nothing of it can be transferred


def test_accrued_period_counts_a_debit_without_period_from_and_to_its_posted_date():
    lines = ledger(
        (REF, 1, "2001-01-05", "CHARGE", "PWC", 500, "2000-12-01", "2000-12-31"),
        (REF, 2, "2003-03-03", "ADJUSTMENT", "PWC", 200),
    )
    decision = decide(case(), lines)
    assert decision.accrued[["accrued_from", "accrued_to"]].iloc[0].tolist() == [
        pd.Timestamp("2000-12-01"),
        pd.Timestamp("2003-03-03"),
    ]
