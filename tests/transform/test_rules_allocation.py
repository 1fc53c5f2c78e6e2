"""Section 5, payment allocation (project rule): pooled credits pay the oldest debits first."""

import pandas as pd
import pytest
from rules_builders import ledger

from transform.allocation import allocate_payments
from transform.ledger import is_debit

REF = "C930000001"


def allocated_debits(*lines: tuple):
    allocated = allocate_payments(ledger(*lines))
    return allocated[is_debit(allocated)]


def outstanding(*lines: tuple) -> dict[int, int]:
    debits = allocated_debits(*lines)
    return dict(zip(debits["line_ref"], debits["outstanding_pence"], strict=True))


def debit(line_ref: int, posted: str, pence: int, period: str | None = None, kind: str = "CHARGE") -> tuple:
    """A PWC debit of case REF, charged for the month ``period`` (YYYY-MM) where it has one."""
    months = (f"{period}-01", str(pd.Period(period).end_time.date())) if period else ()
    return (REF, line_ref, posted, kind, "PWC", pence, *months)


def credit(line_ref: int, posted: str, pence: int, kind: str = "RECEIPT") -> tuple:
    """A PWC credit of case REF."""
    return (REF, line_ref, posted, kind, "PWC", pence)


ORDERS = {
    "credits_are_pooled_whatever_their_dates_and_pay_the_oldest_debit_first": (
        [credit(1, "2001-01-05", -700), debit(2, "2002-01-05", 500, "2001-12"), debit(3, "2003-01-05", 500, "2002-12")],
        {2: 0, 3: 300},
    ),
    "debits_ordered_by_period_start_not_posted_date": (
        [debit(1, "2005-01-05", 500, "2001-01"), debit(2, "2002-01-05", 500, "2001-12"), credit(3, "2006-01-05", -500)],
        {1: 0, 2: 500},
    ),
    "debit_without_period_ordered_by_posted_date": (
        [debit(1, "2003-01-05", 500, "2002-12"), debit(2, "2001-06-01", 200, kind="ADJUSTMENT"),
         credit(3, "2006-01-05", -300)],
        {2: 0, 1: 400},
    ),
    "same_start_ordered_by_ledger_sequence": (
        [debit(9, "2002-01-05", 500, "2001-12"), debit(4, "2002-01-05", 500, "2001-12", kind="IMA_CHARGE"),
         credit(10, "2006-01-05", -600)],
        {4: 0, 9: 400},
    ),
    "credit_adjustment_is_a_credit_and_debit_adjustment_is_a_debit": (
        [debit(1, "2002-01-05", 500, "2001-12"), debit(2, "2003-01-05", 300, kind="ADJUSTMENT"),
         credit(3, "2004-01-05", -600, kind="ADJUSTMENT")],
        {1: 0, 2: 200},
    ),
    "credit_balance_leaves_nothing_outstanding": (
        [debit(1, "2002-01-05", 500, "2001-12"), credit(2, "2004-01-05", -800)],
        {1: 0},
    ),
}


@pytest.mark.parametrize(("lines", "expected"), ORDERS.values(), ids=ORDERS.keys())
def test_credits_pay_the_oldest_debit_first(lines: list[tuple], expected: dict[int, int]):
    """Each debit's outstanding pence once the pooled credits have paid the oldest debits first."""
    assert outstanding(*lines) == expected


def test_each_creditor_allocated_separately():
    debits = allocated_debits(
        (REF, 1, "2002-01-05", "CHARGE", "PWC", 500, "2001-12-01", "2001-12-31"),
        (REF, 2, "2002-01-05", "CHARGE", "SOS", 500, "2001-12-01", "2001-12-31"),
        (REF, 3, "2004-01-05", "RECEIPT", "SOS", -500),
        ("C930000002", 4, "2002-01-05", "CHARGE", "SOS", 700, "2001-12-01", "2001-12-31"),
    )
    got = debits.set_index("line_ref")["outstanding_pence"].to_dict()
    assert got == {1: 500, 2: 0, 4: 700}


def test_outstanding_parts_sum_to_the_balance_and_stay_within_each_debit():
    debits = allocated_debits(
        (REF, 1, "2002-01-05", "CHARGE", "PWC", 500, "2001-12-01", "2001-12-31"),
        (REF, 2, "2002-02-05", "CHARGE", "PWC", 800, "2002-01-01", "2002-01-31"),
        (REF, 3, "2002-03-05", "CHARGE", "PWC", 900, "2002-02-01", "2002-02-28"),
        (REF, 4, "2004-01-05", "RECEIPT", "PWC", -1_000),
    )
    assert debits["outstanding_pence"].tolist() == [0, 300, 900]
    assert debits["outstanding_pence"].sum() == 500 + 800 + 900 - 1_000


def test_lines_come_back_in_input_order_with_nothing_outstanding_on_credits():
    lines = ledger(
        (REF, 5, "2004-01-05", "RECEIPT", "PWC", -100),
        (REF, 1, "2002-01-05", "CHARGE", "PWC", 500, "2001-12-01", "2001-12-31"),
        (REF, 3, "2004-01-05", "ADJUSTMENT", "PWC", -50),
    )
    allocated = allocate_payments(lines)
    assert allocated["line_ref"].tolist() == [5, 1, 3]
    assert allocated["outstanding_pence"].tolist() == [0, 350, 0]
