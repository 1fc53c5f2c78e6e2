"""A batch's decision letters as reconciliation expects them (section 11)."""

import pandas as pd

from transform.reconciliation import expected_letters, letter_breaks


def _outcomes(*rows):
    columns = ["case_ref", "journey_state", "transferred_pence", "choice_deadline"]
    return pd.DataFrame(rows, columns=columns).astype({"case_ref": "str", "choice_deadline": "datetime64[ns]"})


def test_each_decision_calls_for_its_letters_and_none_to_the_dead():
    outcomes = _outcomes(
        ("C1", "CLOSED", 0, None),
        ("C2", "CLOSED", 12_345, None),
        ("C3", "AWAITING_CHOICE", 0, "2015-03-01"),
        ("C4", "ON_HOLD", 0, "2015-03-01"),
    )
    write_offs = pd.DataFrame(
        [("C1", "PWC", "NOT_COLLECTABLE"), ("C1", "SOS", "NOT_COLLECTABLE"), ("C2", "SOS", "SOS_NON_PAYING"),
         ("C3", "SOS", "IMA_1993_1995")],
        columns=["case_ref", "creditor", "reason"],
    )
    parents = pd.DataFrame(
        [("C1", False, True), ("C2", False, False), ("C3", False, False), ("C4", False, False)],
        columns=["case_ref", "nrp_deceased", "pwc_deceased"],
    )
    expected = expected_letters(outcomes, write_offs, parents)
    assert sorted(expected.itertuples(index=False, name=None)) == [
        ("C1", "ARREARS_WRITTEN_OFF", "NRP"),
        ("C2", "ARREARS_TRANSFERRED", "NRP"),
        ("C2", "ARREARS_TRANSFERRED", "PWC"),
        ("C2", "ARREARS_WRITTEN_OFF", "NRP"),
        ("C3", "ARREARS_CHOICE", "PWC"),
    ]


def test_a_missing_or_unmade_letter_is_a_break_and_an_undeliverable_one_is_not():
    expected = pd.DataFrame(
        [("C1", "ARREARS_WRITTEN_OFF", "NRP"), ("C2", "ARREARS_TRANSFERRED", "PWC"),
         ("C2", "ARREARS_TRANSFERRED", "NRP")],
        columns=["case_ref", "template", "recipient_role"],
    )
    letters = pd.DataFrame(
        [("C1", "ARREARS_WRITTEN_OFF", "NRP", "UNDELIVERABLE"), ("C2", "ARREARS_TRANSFERRED", "PWC", "PENDING"),
         ("C2", "ARREARS_TRANSFERRED", "PWC", "DISPATCHED"), ("C2", "ARREARS_TRANSFERRED", "NRP", "DRAFT")],
        columns=["case_ref", "template", "recipient_role", "status"],
    )
    assert letter_breaks(expected, letters) == ["case C2: no ARREARS_TRANSFERRED letter to the NRP"]
    assert letter_breaks(expected.iloc[0:0], letters) == []
