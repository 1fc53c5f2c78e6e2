"""Builders of small canonical frames (docs/design.md) for the rule tests."""

from __future__ import annotations

from typing import Any

import pandas as pd

from csa_closure.settings import RuleSettings
from transform.allocation import allocate_payments
from transform.dates import reference_date
from transform.decision import ArrearsDecision, decide_arrears
from transform.segments import last_receipt_on

EXTRACTED_ON = pd.Timestamp("2014-06-30")

CASE_DEFAULTS: dict[str, Any] = {
    "case_ref": "C930000001",
    "scheme": "1993",
    "legacy_case_id": 0,
    "nrp_ref": "P000000001",
    "pwc_ref": "P000000002",
    "case_start_date": pd.Timestamp("2005-01-10"),
    "status": "LIVE",
    "assessment_type": "FULL",
    "weekly_liability_pence": 1_500,
    "payment_method": "COLLECTION",
    "enforcement_action": None,
    "clerical": False,
    "dv_marker": False,
    "recorded_total_pence": 0,
    "recorded_sos_pence": 0,
    "nrp_deceased": False,
    "pwc_deceased": False,
    "nrp_untraced": False,
    "pwc_untraced": False,
    "nrp_abroad": False,
    "pwc_abroad": False,
    "extracted_on": EXTRACTED_ON,
    "last_receipt_on": pd.NaT,
    "decided_on": pd.Timestamp("2015-06-01"),
}

LEDGER_COLUMNS = [
    "case_ref",
    "line_ref",
    "posted_date",
    "kind",
    "creditor",
    "amount_pence",
    "period_from",
    "period_to",
]


def day(text: str | None) -> pd.Timestamp:
    """A calendar date, NaT for None."""
    return pd.NaT if text is None else pd.Timestamp(text)


def cases(*rows: dict[str, Any]) -> pd.DataFrame:
    """A cases frame: each row is the defaults overridden by its own values."""
    frame = pd.DataFrame([{**CASE_DEFAULTS, **row} for row in rows])
    dates = ["case_start_date", "extracted_on", "last_receipt_on", "decided_on"]
    return frame.astype({column: "datetime64[ns]" for column in dates}).astype(
        {
            "weekly_liability_pence": "int64",
            "recorded_total_pence": "int64",
            "recorded_sos_pence": "int64",
        }
    )


def case(**row: Any) -> pd.DataFrame:
    """A cases frame of one case."""
    return cases(row)


def ledger(*lines: tuple) -> pd.DataFrame:
    """A ledger frame from (case_ref, line_ref, posted, kind, creditor, amount[, from, to])."""
    rows = [(*line, None, None)[:8] for line in lines]
    frame = pd.DataFrame(rows, columns=LEDGER_COLUMNS)
    for column in ("posted_date", "period_from", "period_to"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[ns]")
    return frame.astype({"line_ref": "int64", "amount_pence": "int64"})


def example_a_case() -> pd.DataFrame:
    """EXAMPLES.md case A."""
    return case(
        case_ref="C930099001",
        scheme="1993",
        status="ARREARS_ONLY",
        case_start_date=pd.Timestamp("1993-09-01"),
        recorded_total_pence=215_000,
        recorded_sos_pence=40_000,
        decided_on=pd.Timestamp("2015-06-01"),
    )


def example_a_ledger() -> pd.DataFrame:
    """EXAMPLES.md case A's ledger."""
    ref = "C930099001"
    return ledger(
        (ref, 1, "1994-09-05", "IMA_CHARGE", "PWC", 80_000, "1993-09-01", "1994-08-31"),
        (ref, 2, "1995-09-05", "IMA_CHARGE", "PWC", 40_000, "1994-09-01", "1995-08-31"),
        (ref, 3, "1998-09-05", "CHARGE", "PWC", 150_000, "1995-09-01", "1998-08-31"),
        (ref, 4, "1998-09-05", "CHARGE", "SOS", 60_000, "1995-09-01", "1998-08-31"),
        (ref, 5, "1999-01-10", "RECEIPT", "PWC", -100_000),
        (ref, 6, "2000-03-01", "ADJUSTMENT", "PWC", 5_000),
        (ref, 7, "2002-05-01", "RECEIPT", "SOS", -20_000),
    )


def arrears_ledger(
    case_ref: str = "C930000001",
    pwc: int = 0,
    sos: int = 0,
    receipt_on: str | None = None,
) -> pd.DataFrame:
    """A ledger owing ``pwc`` and ``sos`` pence from one charge each (after a receipt if given).

    The receipt (1 penny to the PWC, on ``receipt_on``) is paid for by an extra penny of charge,
    so the balances stay as given.
    """
    lines = []
    if pwc:
        lines.append((case_ref, 1, "2008-01-05", "CHARGE", "PWC", pwc, "2007-12-01", "2007-12-31"))
    if sos:
        lines.append((case_ref, 2, "2008-01-05", "CHARGE", "SOS", sos, "2007-12-01", "2007-12-31"))
    if receipt_on:
        lines.append((case_ref, 3, "2008-02-05", "CHARGE", "PWC", 1, "2008-01-01", "2008-01-31"))
        lines.append((case_ref, 4, receipt_on, "RECEIPT", "PWC", -1))
    return ledger(*lines)


def decide(
    cases_frame: pd.DataFrame, ledger_frame: pd.DataFrame, rules: RuleSettings | None = None
) -> ArrearsDecision:
    """Allocate and decide as the engine does: the last receipt known on the reference date."""
    rules = rules or RuleSettings()
    reference = reference_date(cases_frame["decided_on"], cases_frame["extracted_on"])
    known = last_receipt_on(
        ledger_frame, pd.Series(reference.to_numpy(), index=cases_frame["case_ref"])
    )
    decided = cases_frame.assign(last_receipt_on=known.to_numpy())
    return decide_arrears(decided, allocate_payments(ledger_frame), rules)
