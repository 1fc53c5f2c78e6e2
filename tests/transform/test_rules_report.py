"""The report's model: tranche progress, money by outcome, holds, quarantine, and totals that
reconcile two independent reads of the same money to the penny."""

from __future__ import annotations

import pandas as pd
from report_frames import CLOCK, empty_rows, frame, report_rows

from transform.report import build_report


def test_totals_are_the_sums_of_the_frames():
    totals = build_report(report_rows(), None, CLOCK).totals
    assert totals.cases == 7
    assert totals.by_state == {"CLOSED": 3, "AWAITING_CHOICE": 1, "AWAITING_LIABILITY_END": 2, "ON_HOLD": 1}
    assert (totals.transferred_pence, totals.written_off_pence) == (170_001, 36_499)
    assert (totals.pending_pence, totals.on_hold_pence) == (92_345, 34_000)
    assert totals.arrears_pence == 170_001 + 36_499 + 92_345 + 34_000
    assert totals.difference_pence == 0 and totals.reconciled


def test_progress_has_every_tranche_and_its_cases_by_state():
    progress = build_report(report_rows(), None, CLOCK).progress
    assert list(progress["tranche_id"]) == ["T0001", "T0002", "T0003"]
    assert list(progress["cases"]) == [5, 2, 0]
    assert progress.loc[0, ["CLOSED", "AWAITING_CHOICE", "AWAITING_LIABILITY_END", "ON_HOLD"]].tolist() == [3, 1, 0, 1]


def test_money_by_outcome_and_reason_leaves_out_nothing_but_zeros():
    money = build_report(report_rows(), None, CLOCK).money
    assert money[["outcome", "reason", "pence"]].values.tolist() == [
        ["TRANSFERRED", "PWC", 150_000],
        ["TRANSFERRED", "SOS", 20_001],
        ["WRITTEN_OFF", "NO_RESPONSE", 30_000],
        ["WRITTEN_OFF", "BELOW_THRESHOLD", 6_499],
        ["PENDING", "AWAITING_CHOICE", 80_000],
        ["PENDING", "AWAITING_LIABILITY_END", 12_345],
        ["ON_HOLD", "MISMATCH", 34_000],
    ]


def test_a_credit_balance_on_hold_counts_against_the_money_on_hold():
    holds = frame("hold_reason journey_state cases pence", ("MISMATCH", "ON_HOLD", 1, 34_000),
                  ("CREDIT_BALANCE", "ON_HOLD", 2, -1_636))
    report = build_report(report_rows(holds=holds), None, CLOCK)
    assert report.money.iloc[-1].tolist() == ["ON_HOLD", "CREDIT_BALANCE", 2, -1_636]
    assert report.totals.on_hold_pence == 32_364


def test_holds_and_quarantine_are_counted_by_reason_and_check():
    report = build_report(report_rows(), None, CLOCK)
    assert report.holds.values.tolist() == [["CREDIT_BALANCE", 0, 0, 1], ["MISMATCH", 1, 34_000, 0]]
    assert report.quarantine.values.tolist() == [
        ["cs2_ledger", "amount", 3], ["cscs_case", "format", 3], ["cscs_case", "not_null", 2],
    ]


def test_a_row_that_does_not_balance_breaks_the_reconciliation():
    rows = report_rows()
    broken = rows.reconciliation.copy()
    broken.loc[2, ["arrears", "difference"]] = [12_346, 1]
    report = build_report(report_rows(reconciliation=broken), None, CLOCK)
    assert report.reconciliation["status"].tolist() == ["PASS", "PASS", "BREAK"]
    assert not report.totals.reconciled and report.totals.status == "BREAK"


def test_outcome_tables_that_disagree_with_the_reconciliation_break_it():
    transfers = frame("creditor cases pence", ("PWC", 2, 150_001), ("SOS", 1, 20_001))
    report = build_report(report_rows(transfers=transfers), None, CLOCK)
    assert (report.reconciliation["status"] == "PASS").all()
    assert not report.totals.reconciled


def test_failed_units_and_unstarted_cases_make_a_balanced_reconciliation_incomplete():
    rows = report_rows(
        failed_units=frame("batch_id step due_on last_error",
                           ("T0002-B001", "END", pd.Timestamp("2014-09-07"), "boom"),
                           ("T0001", "SELECT", pd.Timestamp("2014-07-07"), "boom")),
        unstarted=frame("batch_id cases", ("T0002-B001", 2)),
    )
    report = build_report(rows, None, CLOCK)
    assert report.totals.reconciled and report.totals.status == "INCOMPLETE"
    assert report.totals.unfinished == ("select T0001 2014-07-07 failed", "end T0002-B001 2014-09-07 failed",
                                        "T0002-B001: 2 selected case(s) with no outcome")
    assert build_report(report_rows(), None, CLOCK).totals.status == "PASS"


def test_a_report_with_nothing_selected_yet_reconciles():
    report = build_report(empty_rows(), None, None)
    assert report.totals.cases == 0 and report.totals.arrears_pence == 0 and report.totals.reconciled
