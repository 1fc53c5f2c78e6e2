"""Section 9, instalments (project rule): n = min(36, ceil(amount / 500)), last takes the rest."""

import pandas as pd
import pytest

from csa_closure.settings import RuleSettings
from transform.instalments import instalment_schedule

RULES = RuleSettings()


def schedule(amount: int, transferred_on: str = "2015-06-20") -> pd.DataFrame:
    lines = pd.DataFrame(
        {"line_id": [7], "amount_pence": [amount], "transferred_on": [pd.Timestamp(transferred_on)]}
    )
    return instalment_schedule(lines, RULES)


@pytest.mark.parametrize(
    ("amount", "count"),
    [
        (1, 1),
        (500, 1),
        (501, 2),
        (1_000, 2),
        (17_500, 35),
        (18_000, 36),
        (18_001, 36),
        (175_000, 36),
    ],
)
def test_instalment_count_is_min_36_ceil_amount_over_500(amount, count):
    got = schedule(amount)
    assert len(got) == count
    assert got["instalment_no"].tolist() == list(range(1, count + 1))


def test_each_instalment_is_the_floor_and_the_last_takes_the_remainder():
    got = schedule(1_001)
    assert got["amount_pence"].tolist() == [333, 333, 335]
    assert got["amount_pence"].dtype == "int64"


def test_due_on_the_first_of_each_month_after_the_transfer_date():
    got = schedule(1_500, "2015-12-20")
    assert got["due_on"].tolist() == [
        pd.Timestamp(d) for d in ("2016-01-01", "2016-02-01", "2016-03-01")
    ]


def test_transfer_on_the_first_of_a_month_starts_the_next_month():
    assert schedule(400, "2015-07-01")["due_on"].tolist() == [pd.Timestamp("2015-08-01")]


def test_identifying_columns_repeat_on_every_instalment():
    assert schedule(1_500)["line_id"].tolist() == [7, 7, 7]


def test_many_lines_at_once():
    lines = pd.DataFrame(
        {
            "line_id": [1, 2, 3],
            "amount_pence": [175_000, 900, 40_000],
            "transferred_on": pd.to_datetime(["2015-06-20", "2015-01-31", "2015-02-28"]),
        }
    )
    got = instalment_schedule(lines, RULES)
    assert got.groupby("line_id")["amount_pence"].sum().tolist() == [175_000, 900, 40_000]
    assert got.groupby("line_id").size().tolist() == [36, 2, 36]
