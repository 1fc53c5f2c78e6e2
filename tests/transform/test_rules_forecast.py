"""The what-if forecast on a small estate worked by hand, and money conservation under
hypothesis-drawn settings.

The hand-worked estate (amounts in pence; extracted 2014-06-30; the walk starts 2014-08-31):

- A, ``C930099001``: EXAMPLES.md case A, not selected; arrears only, so segment 6, walked into
  the second tranche (2014-09-07, group 6) and decided that day: SoS 40,000 written off
  ``SOS_NON_PAYING`` (a letter to the NRP); PWC 175,000 is over £1,000 for a case of 21 years,
  so the PWC is asked (``ARREARS_CHOICE``, deadline 2014-10-07).
- B, ``S030099002``: EXAMPLES.md case B, not selected; segment 2 (no receipt since 2013-02-14),
  first tranche (2014-08-31), liability ends 2015-02-28, reminder 2015-01-28; 40,000 left,
  case age 6, 40,000 <= £500: written off ``NOT_COST_EFFECTIVE`` (letters to both).
- C, ``C930099003``: closed in CSCS with a zero recorded balance: out of scope, no money.
- D, ``S030099004``: selected 2014-07-07 (segment 4), awaiting liability end on 2015-01-07; a
  receipt on 2014-06-20 is within 91 days of the reference date 2014-06-30, so it is paying
  and both parts transfer: PWC 30,000, SoS 10,000 (reminders, liability-ended and transferred
  letters to both).
- E, ``S030099005``: arrears only, selected and decided on 2014-07-07: its PWC 300,000 awaits
  the parent's choice (deadline 2014-08-06). Already decided, so no settings move it.

Open arrears: 215,000 (A) + 40,000 (B) + 40,000 (D) + 300,000 (E) = 595,000.
"""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_builders import arrears_ledger, cases, example_a_case, example_a_ledger, ledger

from csa_closure.settings import RuleSettings
from transform.forecast import (
    Comparison,
    OpenCases,
    forecast_estate,
    letters_table,
    no_started_cases,
    outcomes_table,
    side_totals,
    states_table,
    totals_table,
    tranches_table,
)
from transform.journey import start_journeys

RULES = RuleSettings()
FIRST_SELECTION = pd.Timestamp("2014-08-31")
A, B, C, D, E = "C930099001", "S030099002", "C930099003", "S030099004", "S030099005"


def example_b_case(**changes) -> pd.DataFrame:
    return cases(
        dict(case_ref=B, scheme="2003", legacy_case_id=99002, case_start_date=pd.Timestamp("2008-08-31"),
             recorded_total_pence=40_000, last_receipt_on=pd.Timestamp("2013-02-14")) | changes
    )


def hand_worked_estate() -> tuple[pd.DataFrame, OpenCases]:
    """The unselected snapshot (A, B, C) and the batch of all five cases with D and E started."""
    unselected = pd.concat(
        [
            example_a_case().assign(last_receipt_on=pd.Timestamp("2002-05-01")),
            example_b_case(),
            cases(dict(case_ref=C, status="CLOSED", weekly_liability_pence=0)),
        ],
        ignore_index=True,
    ).drop(columns="decided_on")
    started = cases(
        dict(case_ref=D, scheme="2003", legacy_case_id=99004, recorded_total_pence=40_000,
             recorded_sos_pence=10_000, last_receipt_on=pd.Timestamp("2014-06-20")),
        dict(case_ref=E, scheme="2003", legacy_case_id=99005, status="ARREARS_ONLY",
             case_start_date=pd.Timestamp("2000-01-01"), recorded_total_pence=300_000),
    ).drop(columns="decided_on")
    lines = pd.concat(
        [
            example_a_ledger(),
            ledger((B, 501, "2012-12-01", "CHARGE", "PWC", 60_000, "2012-06-01", "2012-11-30"),
                   (B, 502, "2013-02-14", "RECEIPT", "PWC", -20_000)),
            arrears_ledger(D, pwc=30_000, sos=10_000, receipt_on="2014-06-20"),
            arrears_ledger(E, pwc=300_000),
        ],
        ignore_index=True,
    )
    selection = pd.DataFrame(
        {"case_ref": [D, E], "tranche_id": "T0001", "batch_id": "T0001-B001", "segment": [4, 6],
         "selected_on": pd.Timestamp("2014-07-07"), "liability_end_date": pd.NaT}
    ).astype({"liability_end_date": "datetime64[ns]"})
    journey = start_journeys(selection, started, lines, RULES)
    every_case = pd.concat([unselected, started], ignore_index=True)
    batch = OpenCases(
        schemes=every_case.set_index("case_ref")["scheme"],
        cases=every_case,
        ledger=lines,
        outcomes=journey.outcomes,
        journeys=journey.journeys,
    )
    return unselected, batch


def compare(**alternative) -> Comparison:
    unselected, batch = hand_worked_estate()
    nothing_recorded = unselected.iloc[0:0][["case_ref"]].assign(segment=0)
    sides = [
        forecast_estate(unselected, nothing_recorded, batch, FIRST_SELECTION, rules)
        for rules in (RULES, RuleSettings(**alternative))
    ]
    return Comparison(FIRST_SELECTION, FIRST_SELECTION, 0, *sides)


def test_the_started_cases_are_as_the_journey_left_them():
    _, batch = hand_worked_estate()
    states = batch.outcomes.set_index("case_ref")
    assert states.loc[D, "journey_state"] == "AWAITING_LIABILITY_END"
    assert states.loc[D, "liability_end_date"] == pd.Timestamp("2015-01-07")
    assert (states.loc[E, "journey_state"], states.loc[E, "pending_pence"]) == ("AWAITING_CHOICE", 300_000)


def test_current_settings_hand_worked():
    side = compare().current
    f = side.figures
    money = {tuple(row[:4]): row[4] for row in f.money.itertuples(index=False)}
    assert money == {
        ("AWAITING_CHOICE", "", "1993", "PWC"): 175_000,  # A
        ("AWAITING_CHOICE", "", "2003", "PWC"): 300_000,  # E
        ("TRANSFER", "", "2003", "PWC"): 30_000,  # D
        ("TRANSFER", "", "2003", "SOS"): 10_000,  # D
        ("WRITE_OFF", "NOT_COST_EFFECTIVE", "2003", "PWC"): 40_000,  # B
        ("WRITE_OFF", "SOS_NON_PAYING", "1993", "SOS"): 40_000,  # A
    }
    states = dict(zip(f.states["state"] + "/" + f.states["scheme"], f.states["cases"]))
    assert states == {"AWAITING_CHOICE/1993": 1, "AWAITING_CHOICE/2003": 1, "CLOSED/2003": 2,
                      "OUT_OF_SCOPE/1993": 1}
    letters = dict(zip(f.letters["template"], f.letters["letters"]))
    assert letters == {
        "INITIAL_NOTICE": 2,  # B
        "REMINDER": 4,  # B and D
        "LIABILITY_ENDED": 4,  # B and D
        "ARREARS_WRITTEN_OFF": 3,  # B to both, A to the NRP
        "ARREARS_CHOICE": 1,  # A
        "ARREARS_TRANSFERRED": 2,  # D
    }
    assert set(f.letters["status"]) == {"PENDING"}
    assert side.tranches.values.tolist() == [
        [pd.Timestamp("2014-08-31"), "2", 1],
        [pd.Timestamp("2014-09-07"), "6", 1],
    ]
    assert f.dates.to_dict() == {
        "last_liability_end": pd.Timestamp("2015-02-28"),  # B (D's ends on 2015-01-07)
        "last_choice_deadline": pd.Timestamp("2014-10-07"),  # A (E's is 2014-08-06)
    }
    assert side_totals(side) | {"arrears_pence": 595_000} == side_totals(side)


def test_a_100_pound_threshold_moves_case_b_from_not_cost_effective_to_below_threshold():
    """B's 40,000 is under a £500 threshold: written off without a letter to either parent."""
    comparison = compare(below_threshold_pence=50_000)
    rows = outcomes_table(comparison).set_index(["outcome", "reason"])
    for reason, difference in (("NOT_COST_EFFECTIVE", -40_000), ("BELOW_THRESHOLD", 40_000)):
        assert rows.loc[("WRITE_OFF", reason), "difference_pence"] == difference
        assert rows.loc[("WRITE_OFF", reason), "difference_cases"] == difference // 40_000
    assert rows["difference_pence"].sum() == 0
    letters = letters_table(comparison).set_index("template")
    assert letters.loc["ARREARS_WRITTEN_OFF", "difference_letters"] == -2
    totals = totals_table(comparison).set_index("figure")["difference"]
    assert totals["written_off_pence"] == 0 and totals["letters_to_send"] == -2


def test_a_higher_old_case_threshold_writes_off_case_a_but_not_the_choice_already_asked():
    """A's 175,000 is now not cost-effective (<= £2,000 at 21 years); E's 300,000, asked on
    2014-07-07, is still awaiting the answer whatever the threshold."""
    comparison = compare(not_cost_effective_old_case_pence=300_000)
    rows = outcomes_table(comparison).set_index(["outcome", "reason"])
    assert rows.loc[("AWAITING_CHOICE", ""), ["current_pence", "alternative_pence"]].tolist() == [475_000, 300_000]
    assert rows.loc[("WRITE_OFF", "NOT_COST_EFFECTIVE"), "alternative_pence"] == 40_000 + 175_000
    letters = letters_table(comparison).set_index("template")["difference_letters"]
    assert (letters["ARREARS_CHOICE"], letters["ARREARS_WRITTEN_OFF"]) == (-1, 1)  # the NRP had one already
    states = states_table(comparison).set_index("state")["difference_cases"]
    assert (states["CLOSED"], states["AWAITING_CHOICE"]) == (1, -1)


def test_a_shorter_notice_moves_only_the_cases_not_selected_yet():
    comparison = compare(liability_notice_months=3)
    assert comparison.alternative.figures.dates["last_liability_end"] == pd.Timestamp("2015-01-07")  # D's
    assert outcomes_table(comparison)["difference_pence"].eq(0).all()


def test_a_shorter_choice_window_moves_the_deadlines_it_sets():
    comparison = compare(choice_window_days=14)
    assert comparison.alternative.figures.dates["last_choice_deadline"] == pd.Timestamp("2014-09-21")


def test_one_segment_group_selects_both_cases_in_one_tranche():
    comparison = compare(segment_groups=((1, 2, 3, 4, 5, 6),))
    tranches = tranches_table(comparison)
    assert tranches[["segment_group", "current_tranches", "alternative_tranches"]].values.tolist() == [
        ["2", 1, 0], ["6", 1, 0], ["1,2,3,4,5,6", 0, 1],
    ]
    assert comparison.alternative.figures.dates["last_choice_deadline"] == pd.Timestamp("2014-09-30")


def test_unreadable_cases_are_counted_without_money():
    unselected, batch = hand_worked_estate()
    broken = OpenCases(batch.schemes, batch.cases[~batch.cases["case_ref"].isin([B, D])],
                       batch.ledger, batch.outcomes, batch.journeys)
    nothing_recorded = unselected.iloc[0:0][["case_ref"]].assign(segment=0)
    figures = forecast_estate(unselected, nothing_recorded, broken, FIRST_SELECTION, RULES).figures
    assert figures.states.groupby("state")["cases"].sum().to_dict() == {
        "AWAITING_CHOICE": 2, "OUT_OF_SCOPE": 1, "UNREADABLE": 2,
    }
    assert figures.money["pence"].sum() == 175_000 + 40_000 + 300_000


# --- conservation under drawn settings ---------------------------------------------------------

PROPERTY_SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

drawn_rules = st.builds(
    RuleSettings,
    below_threshold_pence=st.integers(0, 400_000),
    not_cost_effective_pence=st.integers(0, 400_000),
    not_cost_effective_old_case_pence=st.integers(0, 400_000),
    old_case_years=st.integers(1, 30),
    choice_window_days=st.integers(1, 120),
    liability_notice_months=st.integers(1, 18),
    tranche_capacity=st.integers(1, 6),
    selection_interval_days=st.integers(1, 60),
    verification_tolerance_pence=st.integers(0, 50_000),
    receipt_lookback_days=st.integers(1, 2_000),
    segment_groups=st.permutations([1, 2, 3, 4, 5, 6]).map(lambda order: tuple((s,) for s in order)),
)

drawn_case = st.fixed_dictionaries(
    {
        "scheme": st.sampled_from(["1993", "2003"]),
        "status": st.sampled_from(["LIVE", "LIVE", "ARREARS_ONLY", "CLOSED"]),
        "weekly_liability_pence": st.sampled_from([0, 1_500]),
        "payment_method": st.sampled_from(["COLLECTION", "DEO"]),
        "clerical": st.booleans(),
        "nrp_deceased": st.booleans(),
        "pwc_deceased": st.booleans(),
        "case_start_date": st.dates(pd.Timestamp("1993-04-05").date(), pd.Timestamp("2013-12-31").date()),
        "pwc": st.integers(-20_000, 300_000),
        "sos": st.integers(0, 200_000),
        "ima": st.integers(0, 50_000),
        "receipt": st.one_of(st.none(), st.dates(pd.Timestamp("2010-01-01").date(), pd.Timestamp("2014-06-30").date())),
        "misrecorded": st.sampled_from([0, 0, 0, 150, 30_000]),
    }
)


def drawn_estate(drawn: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Snapshot and ledger: a charge per creditor, a 1993-95 interim charge, a receipt of a
    penny paid for by an extra penny of charge; recorded balances off by ``misrecorded``."""
    rows, lines = [], []
    for number, case in enumerate(drawn):
        ref = f"C93{number:07d}" if case["scheme"] == "1993" else f"S03{number:07d}"
        lines.append(arrears_ledger(ref, pwc=case["pwc"], sos=case["sos"],
                                    receipt_on=case["receipt"] and case["receipt"].isoformat()))
        if case["ima"]:
            lines.append(ledger((ref, 9, "1995-06-01", "IMA_CHARGE", "PWC", case["ima"], "1993-06-01", "1994-05-31")))
        total = case["pwc"] + case["sos"] + case["ima"] + (1 if case["receipt"] else 0) - (1 if case["receipt"] else 0)
        rows.append({
            "case_ref": ref, "legacy_case_id": number, "scheme": case["scheme"], "status": case["status"],
            "weekly_liability_pence": case["weekly_liability_pence"], "payment_method": case["payment_method"],
            "clerical": case["clerical"], "nrp_deceased": case["nrp_deceased"], "pwc_deceased": case["pwc_deceased"],
            "case_start_date": pd.Timestamp(case["case_start_date"]),
            "recorded_total_pence": total + case["misrecorded"], "recorded_sos_pence": case["sos"],
            "last_receipt_on": pd.Timestamp(case["receipt"]) if case["receipt"] else pd.NaT,
        })
    return cases(*rows).drop(columns="decided_on"), pd.concat(lines, ignore_index=True)


def open_arrears(snapshot: pd.DataFrame, lines: pd.DataFrame) -> pd.Series:
    """The ledger balance per scheme and creditor of every case in scope: what the forecast
    must account for, penny by penny (out-of-scope cases carry none)."""
    in_scope = snapshot[(snapshot["status"] == "LIVE") | (snapshot["recorded_total_pence"] != 0)]
    owed = lines[lines["case_ref"].isin(in_scope["case_ref"])].merge(snapshot[["case_ref", "scheme"]])
    return owed.groupby(["scheme", "creditor"])["amount_pence"].sum()


@pytest.mark.slow  # forty drawn estates, each forecast twice: the full lane's
@PROPERTY_SETTINGS
@given(st.lists(drawn_case, min_size=1, max_size=8), drawn_rules, drawn_rules)
def test_every_penny_is_in_exactly_one_outcome_under_both_settings(drawn, current, alternative):
    snapshot, lines = drawn_estate(drawn)
    outcomes, journeys = no_started_cases()
    batch = OpenCases(snapshot.set_index("case_ref")["scheme"], snapshot, lines, outcomes, journeys)
    nothing_recorded = snapshot.iloc[0:0][["case_ref"]].assign(segment=0)
    expected = open_arrears(snapshot, lines)
    totals = []
    for rules in (current, alternative):
        side = forecast_estate(snapshot, nothing_recorded, batch, pd.Timestamp("2014-07-07"), rules)
        money = side.figures.money
        assert money["pence"].dtype == "int64"
        got = money.groupby(["scheme", "creditor"])["pence"].sum()
        assert got.reindex(expected.index, fill_value=0).tolist() == expected.tolist()
        assert set(got.index) <= set(expected.index)
        assert side.figures.states["cases"].sum() == len(snapshot)
        totals.append(got.reindex(expected.index, fill_value=0))
    pd.testing.assert_series_equal(totals[0], totals[1])


@pytest.mark.parametrize("rules", [RULES, RuleSettings(tranche_capacity=1, below_threshold_pence=100_000)])
def test_two_batches_add_up_to_one(rules):
    """Figures of two halves of an estate add up to the figures of the whole."""
    unselected, batch = hand_worked_estate()
    nothing_recorded = unselected.iloc[0:0][["case_ref"]].assign(segment=0)
    whole = forecast_estate(unselected, nothing_recorded, batch, FIRST_SELECTION, rules)
    from transform.forecast import cases_to_start, forecast_cases, walk_unselected

    to_start = cases_to_start(unselected["case_ref"], walk_unselected(unselected, FIRST_SELECTION, rules),
                              nothing_recorded)
    halves = []
    for refs in ([A, C, D], [B, E]):
        half = OpenCases(batch.schemes[batch.schemes.index.isin(refs)], batch.cases, batch.ledger,
                         batch.outcomes[batch.outcomes["case_ref"].isin(refs)],
                         batch.journeys[batch.journeys["case_ref"].isin(refs)])
        halves.append(forecast_cases(half, to_start[to_start["case_ref"].isin(refs)], rules))
    added = halves[0].plus(halves[1])
    for name in ("money", "cases", "states", "letters"):
        pd.testing.assert_frame_equal(getattr(added, name), getattr(whole.figures, name), check_dtype=False)
    pd.testing.assert_series_equal(added.dates, whole.figures.dates)
