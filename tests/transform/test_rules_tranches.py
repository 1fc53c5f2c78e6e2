"""Section 2, tranche selection, and section 3's reactive closures."""

from datetime import date

import pandas as pd
import pytest

from csa_closure.settings import RuleSettings
from transform.tranches import (
    batch_ids,
    plan_tranches,
    reactive_closures,
    reactive_tranche,
    reactive_tranche_id,
)

START = pd.Timestamp("2014-07-07")
WEEK = pd.Timedelta(days=7)


def unselected(segments: dict[str, int], start_dates: dict[str, str] | None = None):
    """Cases and a fixed classifier: case_ref -> segment."""
    start_dates = start_dates or {}
    frame = pd.DataFrame(
        {
            "case_ref": list(segments),
            "case_start_date": pd.to_datetime([start_dates.get(r, "2000-01-01") for r in segments]),
        }
    )
    fixed = pd.Series(list(segments.values()), index=frame.index)
    return frame, (lambda on: fixed)


def plan(frame, segment_on, capacity=2, until=None, **overrides):
    rules = RuleSettings(tranche_capacity=capacity, **overrides)
    return plan_tranches(frame, segment_on, START, until, rules)


def tranches_of(result) -> list[list[str]]:
    groups = result.selections.groupby("tranche_id", sort=True)["case_ref"]
    return [list(refs) for _, refs in groups]


def test_groups_processed_in_order_starting_with_first_group_with_cases():
    frame, segment_on = unselected({"a6": 6, "b2": 2, "c5": 5, "d4": 4, "e3": 3})
    result = plan(frame, segment_on, capacity=10)
    assert tranches_of(result) == [["b2"], ["d4", "e3"], ["c5"], ["a6"]]


def test_segments_3_and_4_run_together_ordered_by_start_date_then_case_ref():
    frame, segment_on = unselected(
        {"x4": 4, "y3": 3, "z3": 3, "w4": 4},
        {"x4": "2001-01-01", "y3": "2003-01-01", "z3": "2001-01-01", "w4": "2002-01-01"},
    )
    result = plan(frame, segment_on, capacity=3)
    assert tranches_of(result) == [["x4", "z3", "w4"], ["y3"]]


def test_capacity_limits_a_tranche_and_the_group_continues_next_date():
    frame, segment_on = unselected({"a": 1, "b": 1, "c": 1, "d": 2})
    result = plan(frame, segment_on, capacity=2)
    assert tranches_of(result) == [["a", "b"], ["c"], ["d"]]
    assert result.selections.groupby("tranche_id")["selected_on"].first().tolist() == [
        START,
        START + WEEK,
        START + 2 * WEEK,
    ]


def test_exhausted_group_moves_on_next_date_groups_never_share_a_tranche():
    frame, segment_on = unselected({"a": 1, "b": 2, "c": 2})
    result = plan(frame, segment_on, capacity=5)
    assert tranches_of(result) == [["a"], ["b", "c"]]


def test_reclassified_case_in_an_earlier_group_is_taken_first():
    frame = pd.DataFrame(
        {
            "case_ref": ["a", "b", "c", "d", "e"],
            "case_start_date": pd.to_datetime(["2000-01-01"] * 4 + ["2010-01-01"]),
        }
    )
    first = pd.Series([2, 2, 4, 4, 4], index=frame.index)
    later = pd.Series([2, 2, 4, 4, 1], index=frame.index)  # e becomes nil assessed

    def segment_on(on):
        return first if on == START else later

    result = plan(frame, segment_on, capacity=2)
    assert tranches_of(result) == [["a", "b"], ["e", "c"], ["d"]]
    assert result.selections.set_index("case_ref").loc["e", "segment"] == 1


def test_nothing_to_do_is_counted_and_never_selected():
    frame, segment_on = unselected({"a": 0, "b": 6, "c": 0})
    result = plan(frame, segment_on)
    assert result.selections["case_ref"].tolist() == ["b"]
    assert (result.nothing_to_do, result.unplanned) == (2, 0)


def test_until_date_leaves_the_rest_unplanned():
    frame, segment_on = unselected({"a": 1, "b": 1, "c": 1})
    result = plan(frame, segment_on, capacity=1, until=START + WEEK)
    assert tranches_of(result) == [["a"], ["b"]]
    assert result.unplanned == 1


def test_plan_ending_before_it_starts_is_refused():
    frame, segment_on = unselected({"a": 1})
    with pytest.raises(ValueError, match="before it starts"):
        plan(frame, segment_on, until=START - WEEK)


def test_planned_tranches_numbered_from_T0001_in_date_order():
    frame, segment_on = unselected({f"c{i:02d}": 1 for i in range(5)})
    result = plan(frame, segment_on, capacity=2)
    assert sorted(result.selections["tranche_id"].unique()) == ["T0001", "T0002", "T0003"]


def test_tranche_cut_into_batches_in_case_reference_order():
    frame, segment_on = unselected(
        {"e": 1, "d": 1, "c": 1, "b": 1, "a": 1},
        {"e": "1999-01-01", "a": "2005-01-01"},
    )
    result = plan(frame, segment_on, capacity=10, batch_size=2)
    batches = result.selections.set_index("case_ref")["batch_id"].sort_index()
    assert batches.tolist() == ["T0001-B001"] * 2 + ["T0001-B002"] * 2 + ["T0001-B003"]


def test_batch_ids_are_stable_on_a_rerun():
    selections = pd.DataFrame({"tranche_id": ["T0007"] * 3, "case_ref": ["c", "a", "b"]})
    rules = RuleSettings(batch_size=2)
    assert batch_ids(selections, rules).tolist() == ["T0007-B002", "T0007-B001", "T0007-B001"]
    assert batch_ids(selections.iloc[::-1], rules).sort_index().tolist() == [
        "T0007-B002",
        "T0007-B001",
        "T0007-B001",
    ]


def test_reactive_tranche_named_by_date():
    got = reactive_tranche_id(pd.Series(pd.to_datetime(["2015-03-14"])))
    assert got.tolist() == ["R20150314"]


def reactive_cases() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_ref": ["S1", "S2", "S3", "S4"],
            "nrp_ref": ["N1", "N1", "N2", "N3"],
            "pwc_ref": ["P1", "P2", "P3", "P4"],
            "status": ["LIVE", "LIVE", "LIVE", "ARREARS_ONLY"],
        }
    )


def test_reactive_closure_same_nrp_with_a_different_pwc():
    applications = pd.DataFrame(
        {
            "nrp_ref": ["N1", "N2", "N3"],
            "pwc_ref": ["P2", "P3", "P9"],
            "received_on": pd.to_datetime(["2015-03-14"] * 3),
        }
    )
    got = reactive_closures(applications, reactive_cases(), RuleSettings())
    assert got.to_dict("records") == [
        {
            "case_ref": "S1",
            "selected_on": pd.Timestamp("2015-03-14"),
            "liability_end_date": pd.Timestamp("2015-04-13"),
            "tranche_id": "R20150314",
            "batch_id": "R20150314-B001",
        }
    ]


def test_reactive_closure_takes_the_earliest_application():
    applications = pd.DataFrame(
        {
            "nrp_ref": ["N1", "N1"],
            "pwc_ref": ["P7", "P8"],
            "received_on": pd.to_datetime(["2015-03-20", "2015-03-14"]),
        }
    )
    got = reactive_closures(applications, reactive_cases(), RuleSettings())
    assert got[["case_ref", "tranche_id"]].values.tolist() == [
        ["S1", "R20150314"],
        ["S2", "R20150314"],
    ]


def test_an_application_recorded_late_joins_its_days_tranche_in_a_batch_after_its_batches():
    """The day's tranche already holds a started batch: the late closure takes the next one,
    and the tranche counts both days' cases and segments."""
    applications = pd.DataFrame(
        {"nrp_ref": ["N2"], "pwc_ref": ["P8"], "received_on": pd.to_datetime(["2015-03-14"])}
    )
    got = reactive_closures(applications, reactive_cases(), RuleSettings(), batches_before=1)
    assert got[["case_ref", "batch_id"]].values.tolist() == [["S3", "R20150314-B002"]]
    before = {"segment_group": "5", "selected_cases": 1}
    assert reactive_tranche(got.assign(segment=4), date(2015, 3, 14), before) == {
        "tranche_id": "R20150314",
        "kind": "REACTIVE",
        "selection_date": date(2015, 3, 14),
        "segment_group": "4,5",
        "capacity": 2,
        "planned_cases": 2,
        "selected_cases": 2,
    }
    assert reactive_tranche(got.assign(segment=4), date(2015, 3, 14), None)["segment_group"] == "4"
