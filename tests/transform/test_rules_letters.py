"""Section 10, letters: who gets what, once, and the recipient rules."""

import pandas as pd
from rules_builders import cases

from csa_closure.settings import RuleSettings
from transform.codes import BOTH_PARENTS, JourneyEvent, Template
from transform.letters import (
    address_letters,
    letters_to,
    liability_journey_letters,
)


def journeys() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "case_ref": ["S030099002", "R1", "A6"],
            "selected_on": pd.to_datetime(["2014-08-31", "2015-03-14", "2014-08-31"]),
            "liability_end_date": pd.to_datetime(["2015-02-28", "2015-04-13", None]),
            "reactive": [False, True, False],
        }
    )


def test_liability_journey_letters_to_both_parents_dated_when_each_event_takes_effect():
    letters = liability_journey_letters(journeys(), RuleSettings())
    planned = letters[letters["case_ref"] == "S030099002"]
    got = set(
        planned[["journey_event", "template", "recipient_role", "created_on"]].itertuples(
            index=False, name=None
        )
    )
    assert got == {
        (event, template, role, pd.Timestamp(day))
        for event, template, day in [
            ("SELECTION", "INITIAL_NOTICE", "2014-08-31"),
            ("REMINDER", "REMINDER", "2015-01-28"),
            ("LIABILITY_END", "LIABILITY_ENDED", "2015-02-28"),
        ]
        for role in ("PWC", "NRP")
    }


def test_reactive_closure_has_no_reminder_and_arrears_only_no_liability_letters():
    letters = liability_journey_letters(journeys(), RuleSettings())
    reactive = letters[letters["case_ref"] == "R1"]
    assert sorted(reactive["template"].unique()) == ["INITIAL_NOTICE", "LIABILITY_ENDED"]
    assert reactive.loc[reactive["template"] == "INITIAL_NOTICE", "created_on"].iloc[
        0
    ] == pd.Timestamp("2015-03-14")
    assert "A6" not in letters["case_ref"].tolist()


def test_no_letter_to_a_parent_who_died_and_undeliverable_without_an_address():
    parents = cases(
        {"case_ref": "A", "nrp_deceased": True},
        {"case_ref": "B", "pwc_untraced": True},
    )
    day = pd.Series(pd.to_datetime(["2015-06-01"] * 2))
    letters = letters_to(
        pd.Series(["A", "B"]),
        day,
        JourneyEvent.DECISION,
        Template.ARREARS_TRANSFERRED,
        BOTH_PARENTS,
    )
    got = address_letters(letters, parents)
    assert set(
        got[["case_ref", "recipient_role", "status"]].itertuples(index=False, name=None)
    ) == {
        ("A", "PWC", "PENDING"),
        ("B", "PWC", "UNDELIVERABLE"),
        ("B", "NRP", "PENDING"),
    }
