"""The report's model and rendering: totals, money formatting, charts, self-contained HTML."""

from __future__ import annotations

import json
import re
from datetime import date

import pandas as pd
import pytest

from transform.report import (
    BAR_WIDTH,
    LABEL_WIDTH,
    ReportRows,
    build_report,
    headline,
    money_chart,
    money_items,
    percent,
    progress_chart,
    render_html,
    render_json,
    sections,
    share,
    whole_pounds,
)

CLOCK = date(2014, 10, 1)


def frame(columns: str, *rows: tuple) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=columns.split())


def report_rows(**changes: pd.DataFrame) -> ReportRows:
    """Two selected tranches and one planned; the figures add up to the penny."""
    rows = dict(
        tranches=frame(
            "tranche_id kind selection_date segment_group planned_cases",
            ("T0001", "PLANNED", pd.Timestamp("2014-07-07"), "1", 5),
            ("T0002", "PLANNED", pd.Timestamp("2014-07-14"), "6", 2),
            ("T0003", "PLANNED", pd.Timestamp("2014-07-21"), "2", 7),
        ),
        states=frame(
            "tranche_id journey_state cases",
            ("T0001", "CLOSED", 3), ("T0001", "AWAITING_CHOICE", 1), ("T0001", "ON_HOLD", 1),
            ("T0002", "AWAITING_LIABILITY_END", 2),
        ),
        transfers=frame("creditor cases pence", ("PWC", 2, 150_000), ("SOS", 1, 20_001)),
        write_offs=frame("reason cases pence", ("NO_RESPONSE", 1, 30_000), ("BELOW_THRESHOLD", 1, 6_499)),
        pending=frame("journey_state cases pence", ("AWAITING_CHOICE", 1, 80_000),
                      ("AWAITING_LIABILITY_END", 2, 12_345)),
        holds=frame("hold_reason journey_state cases pence", ("MISMATCH", "ON_HOLD", 1, 34_000),
                    ("CREDIT_BALANCE", "CLOSED", 1, 0)),
        letters=frame("template status letters", ("INITIAL_NOTICE", "PENDING", 10),
                      ("INITIAL_NOTICE", "DISPATCHED", 4), ("ARREARS_CHOICE", "UNDELIVERABLE", 1)),
        quarantine=frame(
            "source_table reasons records",
            ("cscs_case", json.dumps([{"column": "case_ref", "check": "format", "value": "X1"},
                                      {"column": "nrp_ref", "check": "format", "value": "Q"},
                                      {"column": "pwc_ref", "check": "not_null", "value": None}]), 2),
            ("cscs_case", json.dumps([{"column": "case_ref", "check": "format", "value": "X2"}]), 1),
            ("cs2_ledger", json.dumps([{"column": "amt", "check": "amount", "value": "1.2.3"}]), 3),
        ),
        held_cases=frame("scheme cases", ("2003", 4), ("1993", 2)),
        reconciliation=frame(
            "tranche_id segment scheme creditor arrears transferred written_off pending on_hold difference",
            ("T0001", 2, "1993", "PWC", 296_499, 150_000, 36_499, 80_000, 30_000, 0),
            ("T0001", 2, "1993", "SOS", 24_001, 20_001, 0, 0, 4_000, 0),
            ("T0002", 6, "2003", "PWC", 12_345, 0, 0, 12_345, 0, 0),
        ),
        failed_units=frame("batch_id step due_on last_error"),
        unstarted=frame("batch_id cases"),
    )
    return ReportRows(**(rows | changes))


def empty_rows() -> ReportRows:
    """What the reads give before anything is selected: the columns, no rows."""
    full = report_rows()
    return ReportRows(**{name: getattr(full, name).iloc[0:0].astype(object) for name in full.__dataclass_fields__})


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


def test_a_credit_balance_on_hold_is_in_the_money_table_but_not_the_chart():
    holds = frame("hold_reason journey_state cases pence", ("MISMATCH", "ON_HOLD", 1, 34_000),
                  ("CREDIT_BALANCE", "ON_HOLD", 2, -1_636))
    report = build_report(report_rows(holds=holds), None, CLOCK)
    assert report.money.iloc[-1].tolist() == ["ON_HOLD", "CREDIT_BALANCE", 2, -1_636]
    assert report.totals.on_hold_pence == 32_364
    assert money_items(report.money)[-1][:3] == ("on hold", "ledger and record disagree", 34_000)


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
    assert not report.totals.reconciled
    assert ("reconciliation", "BREAK") in headline(report)


def test_outcome_tables_that_disagree_with_the_reconciliation_break_it():
    transfers = frame("creditor cases pence", ("PWC", 2, 150_001), ("SOS", 1, 20_001))
    report = build_report(report_rows(transfers=transfers), None, CLOCK)
    assert (report.reconciliation["status"] == "PASS").all()
    assert not report.totals.reconciled


@pytest.mark.parametrize(
    "pence, shown", [(0, "£0"), (49, "£0"), (50, "£1"), (123_450, "£1,235"), (123_449, "£1,234"), (-150, "-£2")]
)
def test_whole_pounds_round_half_up_without_floats(pence, shown):
    assert whole_pounds(pence) == shown


def test_percent_and_share_are_integers():
    assert [percent(1, 3), percent(2, 3), percent(1, 2), percent(0, 0)] == [33, 67, 50, 0]
    assert share(1, 3, 440) == 146 and share(5, 0, 440) == 0
    assert isinstance(percent(10**15, 3 * 10**15 + 1), int)


def test_amounts_in_tables_are_pounds_and_pence():
    by_key = {s.key: s for s in sections(build_report(report_rows(), None, CLOCK))}
    assert by_key["money"].rows[1] == ("transferred to the CMS", "owed to the Secretary of State", "1", "£200.01")
    assert by_key["money"].total == ("all", "", "", "£3,328.45")
    assert by_key["reconciliation"].total[-2:] == ("£0.00", "PASS")
    assert by_key["progress"].total == ("all", "", "", "", "14", "7", "3", "1", "2", "1")
    assert ("cases held back (1993)", "", "2") in by_key["quarantine"].rows


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
    assert dict(headline(report))["reconciliation"] == "INCOMPLETE"
    assert sections(report)[1].key == "unfinished"
    assert json.loads(render_json(report))["reconciliation_status"] == "INCOMPLETE"
    balanced = build_report(report_rows(), None, CLOCK)
    assert balanced.totals.status == "PASS" and "unfinished" not in {s.key for s in sections(balanced)}


def test_json_has_stable_keys_integer_pence_and_iso_dates():
    document = json.loads(render_json(build_report(report_rows(), "T0001", CLOCK)))
    assert list(document) == ["tranche", "advanced_to", "totals", "reconciliation_status", "unfinished", "tranches", "money",
                              "holds", "quarantine", "held_cases", "letters", "reconciliation"]
    assert document["tranche"] == "T0001" and document["advanced_to"] == "2014-10-01"
    assert document["totals"]["transferred_pence"] == 170_001
    assert document["tranches"][0] == {
        "tranche_id": "T0001", "kind": "PLANNED", "selection_date": "2014-07-07", "segment_group": "1",
        "planned_cases": 5, "cases": 5,
        "cases_by_state": {"CLOSED": 3, "AWAITING_CHOICE": 1, "AWAITING_LIABILITY_END": 0, "ON_HOLD": 1},
    }
    assert document["letters"][0] == {"template": "INITIAL_NOTICE", "total": 14, "letters_by_status": {
        "PENDING": 10, "DISPATCHED": 4, "UNDELIVERABLE": 0}}
    assert document["money"][0] == {"outcome": "TRANSFERRED", "reason": "PWC", "cases": 2, "amount_pence": 150_000}
    assert document["reconciliation"][0]["difference_pence"] == 0
    assert document["reconciliation_status"] == "PASS"

    def numbers(value):
        if isinstance(value, dict):
            return [n for v in value.values() for n in numbers(v)]
        if isinstance(value, list):
            return [n for v in value for n in numbers(v)]
        return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []

    assert all(isinstance(n, int) for n in numbers(document))


def test_money_chart_splits_all_arrears_then_draws_a_bar_per_reason():
    items = money_items(build_report(report_rows(), None, CLOCK).money)
    svg = money_chart(items)
    assert svg.startswith("<svg") and "Where the money went" in svg
    assert "all arrears" in svg and "£3,328" in svg
    assert "written off: £365 (11%)" in svg and "no answer by the deadline" in svg and "£300 (9%)" in svg
    total_bar = [int(w) for w in re.findall(r'<rect x="\d+" y="4" width="(\d+)"', svg)]
    assert len(total_bar) == len(items) and sum(total_bar) == BAR_WIDTH
    largest = re.search(r'<rect x="(\d+)" y="\d+" width="(\d+)" height="22" fill="#00703c"><title>transferred '
                        r'to the CMS, owed to the receiving parent: £1,500.00</title>', svg.split("</text>", 2)[2])
    assert largest.groups() == (str(LABEL_WIDTH), str(BAR_WIDTH))


def test_a_sliver_shows_as_less_than_one_percent():
    svg = money_chart([("transferred to the CMS", "owed to the receiving parent", 100_000, "#00703c"),
                       ("written off", "below £65", 400, "#d4351c")])
    assert "£4 (&lt;1%)" in svg and "(0%)" not in svg


def test_progress_chart_stacks_states_as_long_as_the_tranche():
    svg = progress_chart(build_report(report_rows(), None, CLOCK).progress)
    for label in ("closed", "awaiting choice", "awaiting liability end", "on hold", "T0001", "T0002"):
        assert label in svg
    assert "T0003" not in svg  # nothing selected yet: no bar
    first = re.findall(r'<rect x="(\d+)" y="32" width="(\d+)"', svg)
    assert int(first[0][0]) == LABEL_WIDTH and sum(int(w) for _, w in first) == BAR_WIDTH
    second = re.findall(r'<rect x="\d+" y="60" width="(\d+)"', svg)
    assert sum(map(int, second)) == share(2, 5, BAR_WIDTH)
    assert "5 cases, 60% closed" in svg


def test_html_is_one_self_contained_page():
    page = render_html(build_report(report_rows(), None, CLOCK))
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2
    assert not re.search(r"https?://|<script|<link|@import|url\(|src=", page, re.IGNORECASE)
    assert "<style>" in page and "journey advanced to 1 October 2014" in page
    for title in ("Tranche progress", "Money by outcome and reason", "Verification holds", "Quarantine",
                  "Letters", "Reconciliation to the penny"):
        assert title in page
    assert '<span class="tag PASS">PASS</span>' in page


def test_a_report_with_nothing_selected_yet_still_renders():
    report = build_report(empty_rows(), None, None)
    assert report.totals.cases == 0 and report.totals.reconciled
    assert json.loads(render_json(report))["totals"]["arrears_pence"] == 0
    assert "journey not advanced yet" in render_html(report)
