"""Section 5, payment allocation: pooled credits pay off the oldest debits first.

Within each case and creditor, every credit (receipts and credit adjustments, whatever their
dates) goes into one pool that pays the debits in order of period start (posted date where
there is no period) then ledger sequence. What a debit keeps unpaid is its outstanding part;
section 6 reads those parts to find the uncollectable arrears and the accrual period.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transform.codes import Creditor
from transform.ledger import is_debit

DAY_BITS = 20
"""Bits of a sort key holding a due date (days from 1970 ± 2**19: years 535 to 3405)."""


def allocate_payments(ledger: pd.DataFrame) -> pd.DataFrame:
    """Each line's outstanding part after the creditor's pooled credits paid the oldest first.

    ``ledger``: canonical lines (already limited to the as-of date, with any hold-resolution
    adjustments). Returns the same lines in the same order with ``outstanding_pence``: the
    unpaid part of each debit, 0 for credits. Per case and creditor the outstanding parts sum
    to the ledger balance when it is not negative (a verified or resolved case), else to zero.
    """
    amount = ledger["amount_pence"].to_numpy(dtype=np.int64)
    debit = is_debit(ledger).to_numpy()
    case_code, case_refs = pd.factorize(ledger["case_ref"])
    group = case_code.astype(np.int64) * 2 + (ledger["creditor"] == Creditor.SOS).to_numpy()
    pool = np.zeros(2 * len(case_refs), dtype=np.int64)
    np.add.at(pool, group[~debit], -amount[~debit])

    order = _payment_order(ledger, group, np.flatnonzero(debit))
    debit_group = group[order]
    debit_amount = amount[order]
    paid_before = np.cumsum(debit_amount) - debit_amount
    first_of_group = np.ones(len(order), dtype=bool)
    first_of_group[1:] = debit_group[1:] != debit_group[:-1]
    starts = np.flatnonzero(first_of_group)
    group_base = np.repeat(paid_before[starts], np.diff(np.r_[starts, len(order)]))
    running = paid_before - group_base + debit_amount
    outstanding = np.zeros(len(ledger), dtype=np.int64)
    outstanding[order] = np.clip(running - pool[debit_group], 0, debit_amount)
    return ledger.assign(outstanding_pence=outstanding)


def _payment_order(ledger: pd.DataFrame, group: np.ndarray, debits: np.ndarray) -> np.ndarray:
    """Debit positions by case and creditor, then due date, then ledger sequence.

    One packed int64 key sorted stably over positions already in sequence order: cheaper than
    a three-key lexsort, and near linear when the ledger comes in sequence order.
    """
    due = ledger["period_from"].fillna(ledger["posted_date"]).to_numpy()[debits]
    days = due.astype("datetime64[D]").astype(np.int64) + (1 << (DAY_BITS - 1))
    sequence = np.argsort(ledger["line_ref"].to_numpy()[debits], kind="stable")
    key = (group[debits[sequence]] << DAY_BITS) | days[sequence]
    return debits[sequence[np.argsort(key, kind="stable")]]
