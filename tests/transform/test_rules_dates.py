"""Calendar rules of sections 3, 6 and 7."""

import pandas as pd
import pytest

from csa_closure.settings import RuleSettings
from transform.dates import (
    add_months,
    choice_deadline,
    extended_deadline,
    liability_end_date,
    reactive_liability_end_date,
    reference_date,
    reminder_date,
    whole_years,
)

RULES = RuleSettings()


def dates(*texts: str | None) -> pd.Series:
    return pd.Series(pd.to_datetime(list(texts))).astype("datetime64[ns]")


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2014-08-31", 6, "2015-02-28"),
        ("2015-08-31", 6, "2016-02-29"),
        ("2015-01-31", 1, "2015-02-28"),
        ("2015-03-31", -1, "2015-02-28"),
        ("2014-01-15", 6, "2014-07-15"),
        ("2014-10-31", 2, "2014-12-31"),
        ("2014-11-30", 3, "2015-02-28"),
    ],
)
def test_month_arithmetic_uses_last_day_when_day_missing(start, months, expected):
    assert add_months(dates(start), months).iloc[0] == pd.Timestamp(expected)


def test_month_arithmetic_keeps_no_date_as_no_date():
    assert add_months(dates(None, "2014-08-31"), 6).isna().tolist() == [True, False]


def test_month_arithmetic_keeps_the_input_resolution():
    seconds = pd.Series(pd.to_datetime(["2014-08-31"])).astype("datetime64[s]")
    assert add_months(seconds, 6).dtype == seconds.dtype


def test_liability_end_date_is_selection_plus_6_months():
    assert liability_end_date(dates("2014-08-31"), RULES).iloc[0] == pd.Timestamp("2015-02-28")


def test_reminder_is_one_month_before_liability_end():
    assert reminder_date(dates("2015-02-28"), RULES).iloc[0] == pd.Timestamp("2015-01-28")


def test_reactive_liability_end_is_application_plus_30_days():
    end = reactive_liability_end_date(dates("2015-03-14"), RULES).iloc[0]
    assert end == pd.Timestamp("2015-04-13")


def test_choice_deadline_is_decision_plus_30_days():
    assert choice_deadline(dates("2015-06-01"), RULES).iloc[0] == pd.Timestamp("2015-07-01")


def test_extension_adds_28_days_to_the_deadline():
    assert extended_deadline(dates("2015-07-01"), RULES).iloc[0] == pd.Timestamp("2015-07-29")


def test_reference_date_is_the_earlier_of_as_of_and_extract_date():
    extracted = dates("2014-06-30", "2015-06-30")
    got = reference_date(pd.Timestamp("2015-01-01"), extracted)
    assert got.tolist() == [pd.Timestamp("2014-06-30"), pd.Timestamp("2015-01-01")]


@pytest.mark.parametrize(
    ("start", "on", "years"),
    [
        ("2005-06-01", "2015-06-01", 10),
        ("2005-06-01", "2015-05-31", 9),
        ("1993-09-01", "2015-06-01", 21),
        ("2008-08-31", "2015-02-28", 6),
        ("2004-02-29", "2014-02-28", 9),
        ("2004-02-29", "2014-03-01", 10),
    ],
)
def test_case_age_counts_whole_years_as_a_birthday(start, on, years):
    assert whole_years(dates(start), dates(on)).iloc[0] == years
