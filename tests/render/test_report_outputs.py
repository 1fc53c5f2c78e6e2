"""The report as people and machines read it: tables in pounds and pence, JSON of integer pence,
integer-only charts, the reconciliation's markdown and one self-contained, escaped HTML page."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest
from report_frames import CLOCK, empty_rows, frame, report_rows

from csa_closure.render.charts import (
    BAR_WIDTH,
    LABEL_WIDTH,
    Bar,
    Label,
    MoneyItem,
    money_chart,
    money_items,
    progress_chart,
)
from csa_closure.render.formats import percent, share, whole_pounds
from csa_closure.render.report import headline, reconciliation_markdown, render_html, render_json, sections
from transform.report import build_report


def texts(marks: list[Bar | Label]) -> list[str]:
    return [mark.text for mark in marks if isinstance(mark, Label)]


def bars(marks: list[Bar | Label]) -> list[Bar]:
    return [mark for mark in marks if isinstance(mark, Bar)]


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


def test_every_output_tells_a_break_and_unfinished_work():
    broken = report_rows().reconciliation.copy()
    broken.loc[2, ["arrears", "difference"]] = [12_346, 1]
    assert ("reconciliation", "BREAK") in headline(build_report(report_rows(reconciliation=broken), None, CLOCK))
    report = build_report(report_rows(unstarted=frame("batch_id cases", ("T0002-B001", 2))), None, CLOCK)
    assert dict(headline(report))["reconciliation"] == "INCOMPLETE"
    assert sections(report)[1].rows == [("T0002-B001: 2 selected case(s) with no outcome",)]
    assert json.loads(render_json(report))["reconciliation_status"] == "INCOMPLETE"
    assert "unfinished" not in {s.key for s in sections(build_report(report_rows(), None, CLOCK))}


def test_the_latest_runs_say_how_each_ended_and_mark_a_run_to_look_into():
    report = build_report(report_rows(), None, CLOCK)
    assert json.loads(render_json(report))["runs"] == [
        {"command": "advance", "as_of": "2014-10-01", "state": "INTERRUPTED"},
        {"command": "plan", "as_of": "2014-07-07", "state": "COMPLETED"},
    ]
    assert {s.key: s for s in sections(report)}["runs"].rows == [
        ("advance", "2014-10-01", "2026-12-06 05:00", "", "INTERRUPTED"),
        ("plan", "2014-07-07", "2026-12-01 09:30", "2026-12-01 09:30", "COMPLETED"),
    ]
    assert '<span class="tag INTERRUPTED">INTERRUPTED</span>' in render_html(report)
    assert '<span class="tag COMPLETED">' not in render_html(report)


def test_json_has_stable_keys_integer_pence_and_iso_dates():
    document = json.loads(render_json(build_report(report_rows(), "T0001", CLOCK)))
    assert list(document) == ["tranche", "advanced_to", "totals", "reconciliation_status", "unfinished", "runs",
                              "tranches", "money", "holds", "quarantine", "held_cases", "letters", "reconciliation"]
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


def test_a_credit_balance_on_hold_draws_no_bar():
    holds = frame("hold_reason journey_state cases pence", ("MISMATCH", "ON_HOLD", 1, 34_000),
                  ("CREDIT_BALANCE", "ON_HOLD", 2, -1_636))
    items = money_items(build_report(report_rows(holds=holds), None, CLOCK).money)
    assert items[-1] == MoneyItem("on hold", "ledger and record disagree", 34_000, "#f47738")


def test_money_chart_splits_all_arrears_then_draws_a_bar_per_reason():
    items = money_items(build_report(report_rows(), None, CLOCK).money)
    chart = money_chart(items)
    assert chart.title == "Where the money went"
    assert {"all arrears", "£3,328", "written off: £365 (11%)", "no answer by the deadline", "£300 (9%)"} <= set(
        texts(chart.marks))
    total_bar = [bar.width for bar in bars(chart.marks) if bar.y == 4]
    assert len(total_bar) == len(items) and sum(total_bar) == BAR_WIDTH
    largest = [bar for bar in bars(chart.marks)
               if bar.y > 4 and bar.tip == "transferred to the CMS, owed to the receiving parent: £1,500.00"]
    assert [(bar.x, bar.width, bar.colour) for bar in largest] == [(LABEL_WIDTH, BAR_WIDTH, "#00703c")]


def test_a_sliver_shows_as_less_than_one_percent():
    chart = money_chart([MoneyItem("transferred to the CMS", "owed to the receiving parent", 100_000, "#00703c"),
                         MoneyItem("written off", "below £65", 400, "#d4351c")])
    assert "£4 (<1%)" in texts(chart.marks) and not any("(0%)" in text for text in texts(chart.marks))


def test_progress_chart_stacks_states_as_long_as_the_tranche():
    chart = progress_chart(build_report(report_rows(), None, CLOCK).progress)
    shown = " ".join(texts(chart.marks))
    for label in ("closed", "awaiting choice", "awaiting liability end", "on hold", "T0001", "T0002"):
        assert label in shown
    assert "T0003" not in shown  # nothing selected yet: no bar
    first = [bar for bar in bars(chart.marks) if bar.y == 32]
    assert first[0].x == LABEL_WIDTH and sum(bar.width for bar in first) == BAR_WIDTH
    assert sum(bar.width for bar in bars(chart.marks) if bar.y == 60) == share(2, 5, BAR_WIDTH)
    assert "5 cases, 60% closed" in shown


def test_html_is_one_self_contained_page():
    page = render_html(build_report(report_rows(), None, CLOCK))
    assert page.startswith("<!DOCTYPE html>") and page.count("<svg") == 2
    assert not re.search(r"https?://|<script|<link|@import|url\(|src=", page, re.IGNORECASE)
    assert "<style>" in page and "journey advanced to 1 October 2014" in page
    for title in ("Tranche progress", "Money by outcome and reason", "Verification holds", "Quarantine",
                  "Letters", "Reconciliation to the penny"):
        assert title in page
    assert '<span class="tag PASS">PASS</span>' in page
    assert re.search(r'<rect x="280" y="4" width="\d+" height="22" fill="#00703c"><title>transferred to the CMS, '
                     r"owed to the receiving parent: £1,500.00</title></rect>", page)


def test_every_value_on_the_page_is_escaped():
    holds = frame("hold_reason journey_state cases pence", ("<b>ODD</b>&", "ON_HOLD", 1, 34_000))
    page = render_html(build_report(report_rows(holds=holds), "T<1>", CLOCK))
    assert "<b>" not in page and "&lt;b&gt;odd&lt;/b&gt;&amp;" in page
    assert "<title>CSA case closure report: Tranche T&lt;1&gt;</title>" in page
    assert '"GDS Transport"' in page  # the style sheet itself is not escaped


def test_a_long_table_folds_away_unless_something_in_it_breaks():
    many = pd.DataFrame([(f"T{n:04d}", 1, "1993", "PWC", 100, 100, 0, 0, 0, 0) for n in range(1, 22)],
                        columns=report_rows().reconciliation.columns)
    folded = render_html(build_report(report_rows(reconciliation=many), None, CLOCK))
    assert "<details><summary>21 rows: all pass</summary>" in folded
    many.loc[3, ["arrears", "difference"]] = [101, 1]
    opened = render_html(build_report(report_rows(reconciliation=many), None, CLOCK))
    assert "<details open><summary>21 rows: 1 break</summary>" in opened


def test_the_reconciliation_markdown_is_a_table_under_its_verdict():
    markdown = reconciliation_markdown(build_report(report_rows(), "T0001", CLOCK))
    assert markdown.split("\n")[:5] == [
        "## Tranche T0001: reconciliation PASS",
        "",
        "### Reconciliation to the penny",
        "",
        "| tranche | segment | scheme | creditor | arrears | transferred | written off | pending | on hold | "
        "difference | status |",
    ]
    assert markdown.endswith("| **all** |  |  |  | **£3,328.45** | **£1,700.01** | **£364.99** | **£923.45** | "
                             "**£340.00** | **£0.00** | **PASS** |")


def test_a_report_with_nothing_selected_yet_still_renders():
    report = build_report(empty_rows(), None, None)
    assert json.loads(render_json(report))["totals"]["arrears_pence"] == 0
    assert "journey not advanced yet" in render_html(report)
