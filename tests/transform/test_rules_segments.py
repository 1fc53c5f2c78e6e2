"""Section 2, the segments table: one test per row, in the rulebook's order."""

import pandas as pd
from rules_builders import case, cases, ledger

from csa_closure.settings import RuleSettings
from transform.segments import NOTHING_TO_DO, classify_segments, last_receipt_on

RULES = RuleSettings()
AS_OF = pd.Timestamp("2014-08-31")  # reference date = extract date 2014-06-30


def segment_of(**row) -> int:
    return int(classify_segments(case(**row), AS_OF, RULES).iloc[0])


def test_segment_6_arrears_only():
    assert segment_of(status="ARREARS_ONLY", recorded_total_pence=1) == 6


def test_segment_6_closed_case_with_arrears_is_arrears_only():
    assert segment_of(status="CLOSED", recorded_total_pence=5_000) == 6


def test_segment_6_comes_first_whatever_else_holds():
    assert segment_of(status="ARREARS_ONLY", recorded_total_pence=9, payment_method="DEO") == 6


def test_out_of_scope_no_liability_and_zero_balance_is_nothing_to_do():
    assert segment_of(status="ARREARS_ONLY", recorded_total_pence=0) == NOTHING_TO_DO
    assert segment_of(status="CLOSED", recorded_total_pence=0) == NOTHING_TO_DO


def test_segment_1_nil_assessed():
    assert segment_of(weekly_liability_pence=0, payment_method="DEO") == 1


def test_segment_5_enforcement_deduction_from_earnings_order():
    assert segment_of(payment_method="DEO") == 5


def test_segment_5_enforcement_action_recorded():
    assert segment_of(enforcement_action="LIABILITY_ORDER", clerical=True) == 5


def test_segment_2_non_compliant_no_receipt_in_91_days():
    assert segment_of(last_receipt_on=pd.Timestamp("2013-05-01"), clerical=True) == 2


def test_segment_2_boundary_receipt_exactly_91_days_before_reference_date():
    # reference 2014-06-30; window is posted > 2014-03-31
    assert segment_of(last_receipt_on=pd.Timestamp("2014-03-31")) == 2
    assert segment_of(last_receipt_on=pd.Timestamp("2014-04-01")) == 4


def test_segment_2_reference_date_is_as_of_when_earlier_than_extract():
    row = {"last_receipt_on": pd.Timestamp("2014-03-01")}
    frame = case(**row)
    assert classify_segments(frame, pd.Timestamp("2014-05-31"), RULES).iloc[0] == 2
    assert classify_segments(frame, pd.Timestamp("2014-05-30"), RULES).iloc[0] == 4


def test_segment_3_compliant_clerical():
    assert segment_of(last_receipt_on=pd.Timestamp("2014-06-20"), clerical=True) == 3


def test_segment_4_compliant_system():
    assert segment_of(last_receipt_on=pd.Timestamp("2014-06-20")) == 4


def test_segments_classify_a_whole_frame_in_order():
    frame = cases(
        {"case_ref": "A", "status": "ARREARS_ONLY", "recorded_total_pence": 10},
        {"case_ref": "B", "weekly_liability_pence": 0},
        {"case_ref": "C", "payment_method": "DEO"},
        {"case_ref": "D"},
        {"case_ref": "E", "clerical": True, "last_receipt_on": pd.Timestamp("2014-06-01")},
        {"case_ref": "F", "last_receipt_on": pd.Timestamp("2014-06-01")},
        {"case_ref": "G", "status": "CLOSED"},
    )
    assert classify_segments(frame, AS_OF, RULES).tolist() == [6, 1, 5, 2, 3, 4, 0]


def test_last_receipt_is_the_latest_receipt_on_or_before_the_reference_date():
    lines = ledger(
        ("A", 1, "2014-01-10", "RECEIPT", "PWC", -100),
        ("A", 2, "2014-06-30", "RECEIPT", "SOS", -100),
        ("A", 3, "2014-07-01", "RECEIPT", "PWC", -100),
        ("A", 4, "2014-06-30", "CHARGE", "PWC", 100),
        ("B", 5, "2014-07-02", "RECEIPT", "PWC", -100),
    )
    reference = pd.Series(pd.to_datetime(["2014-06-30"] * 3), index=["A", "B", "C"])
    got = last_receipt_on(lines, reference)
    assert got["A"] == pd.Timestamp("2014-06-30")
    assert got[["B", "C"]].isna().all()
