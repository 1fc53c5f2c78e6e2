"""The raw contracts' date and row checks, reported where an operator looks for them."""

from __future__ import annotations

import pandas as pd

from extract.cs2 import TXN
from extract.cscs import LEDGER as CSCS_LEDGER
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
             for row, reasons in contract_reasons(CSCS_LEDGER.parsed(lines), CSCS_LEDGER).items()}
    assert found == {
        1: [("amount_pence", "sign")],
        2: [("amount_pence", "sign")],
        3: [("amount_pence", "sign")],
        7: [("amount_pence", "amount")],
        8: [("period_to", "period")],
        9: [("period_from", "date")],
    }


def test_a_tables_dates_are_parsed_once_as_read_and_kept_with_the_rows_kept():
    """The date check, the period check and the mapping read the same parsed dates."""
    columns = ["txn_id", "case_id", "posted_dt", "txn_cd", "owed_to", "amt", "period_start_dt", "period_end_dt"]
    lines = pd.DataFrame([
        ("1", "10", "01/05/2014", "CHG", "RP", "4.00", "01/04/2014", "30/04/2014"),
        ("2", "10", "31/02/2014", "CHG", "RP", "4.00", None, None),            # not a day
        ("3", "10", "01/05/2014", "CHG", "RP", "4.00", "01/04/2014", "2014-04-30"),  # not its format
        ("4", "10", None, "CHG", "RP", "4.00", "30/04/2014", "01/04/2014"),     # missing; a period reversed
    ], columns=columns, dtype="str", index=[7, 8, 9, 11])
    parsed = TXN.parsed(lines)
    assert sorted(parsed.dates) == ["period_end_dt", "period_start_dt", "posted_dt"]
    assert parsed.dates["posted_dt"].tolist() == [
        pd.Timestamp("2014-05-01"),
        pd.NaT,
        pd.Timestamp("2014-05-01"),
        pd.NaT,
    ]
    found = {
        row: sorted((r["column"], r["check"]) for r in reasons)
        for row, reasons in contract_reasons(parsed, TXN).items()
    }
    assert found == {
        8: [("posted_dt", "date")],
        9: [("period_end_dt", "date")],
        11: [("period_end_dt", "period"), ("posted_dt", "not_null")],
    }
    kept = parsed.where(pd.Series([True, False, True, False], index=lines.index))
    assert kept.text.index.tolist() == [7, 9] and kept.dates["posted_dt"].index.tolist() == [7, 9]
    assert kept.dates["period_end_dt"].tolist() == [pd.Timestamp("2014-04-30"), pd.NaT]
