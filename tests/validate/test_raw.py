"""The raw contracts' row checks, reported where an operator looks for them."""

from __future__ import annotations

import pandas as pd

from validate.raw import CSCS_LEDGER
from validate.reasons import contract_reasons


def _ledger(rows) -> pd.DataFrame:
    columns = ["case_ref", "seq", "posted_date", "txn_type", "creditor", "amount_pence", "period_from", "period_to"]
    return pd.DataFrame(rows, columns=columns, dtype="str")


def test_a_cscs_ledger_line_whose_sign_or_period_is_wrong_is_reported_on_the_amount_or_the_end():
    lines = _ledger([
        ("C930000001", str(seq), "2014-01-01", kind, "PWC", amount, start, end)
        for seq, (kind, amount, start, end) in enumerate([
            ("RECEIPT", "-500", None, None),           # clean
            ("RECEIPT", "500", None, None),            # a receipt that raises the debt
            ("CHARGE", "-500", "2014-01-01", "2014-01-31"),  # a charge that lowers it
            ("IMA_CHARGE", "-1", "2014-01-01", "2014-01-31"),
            ("CHARGE", "0", "2014-01-01", "2014-01-01"),     # clean: nothing, in a one-day period
            ("ADJUSTMENT", "-500", None, None),        # clean: adjustments go either way
            ("ADJUSTMENT", "500", None, None),         # clean
            ("RECEIPT", "5O0", None, None),            # not an amount: the amount check, not the sign
            ("CHARGE", "700", "2014-02-01", "2014-01-31"),  # a period that ends before it starts
            ("CHARGE", "700", "2014-02-30", "2014-01-31"),  # not a date: the date check, not the period
        ], start=1)
    ])
    found = {row: sorted((r["column"], r["check"]) for r in reasons)
             for row, reasons in contract_reasons(lines, CSCS_LEDGER).items()}
    assert found == {
        1: [("amount_pence", "sign")],
        2: [("amount_pence", "sign")],
        3: [("amount_pence", "sign")],
        7: [("amount_pence", "amount")],
        8: [("period_to", "period")],
        9: [("period_from", "date")],
    }
