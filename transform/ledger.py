"""The ledger's shared vocabulary: which lines count as of a date, which are debits, balances.

The ledger frame is the canonical one of docs/design.md: ``case_ref``, ``line_ref``,
``posted_date``, ``kind``, ``creditor``, ``amount_pence`` (signed, + raises the debt),
``period_from``, ``period_to``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from transform.codes import Creditor, LineKind

DEBIT_CHARGE_KINDS = (LineKind.CHARGE, LineKind.IMA_CHARGE)


def lines_known_on(ledger: pd.DataFrame, as_of: pd.Timestamp, extracted_on: pd.Series) -> pd.DataFrame:
    """The lines a run as of ``as_of`` counts: those posted by then, as a run acts only on what
    was known by then; and, where the case's extract (``extracted_on``, by case) was taken
    later, as when a run catches up after a newer extract, every line posted by the extract's
    date, which the case's recorded balances count: verification compares like with like."""
    extract = pd.Series(per_case_value(ledger["case_ref"], extracted_on), index=ledger.index)
    return ledger[ledger["posted_date"] <= extract.where(extract > as_of, as_of)]


def is_debit(ledger: pd.DataFrame) -> pd.Series:
    """Charges, interim-assessment charges and debit adjustments: the lines credits pay off."""
    charge = ledger["kind"].isin(DEBIT_CHARGE_KINDS)
    debit_adjustment = (ledger["kind"] == LineKind.ADJUSTMENT) & (ledger["amount_pence"] > 0)
    return charge | debit_adjustment


def debit_period(debits: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """A debit's period; a debit with no period counts from and to its posted date (section 9)."""
    return (
        debits["period_from"].fillna(debits["posted_date"]),
        debits["period_to"].fillna(debits["posted_date"]),
    )


def case_positions(line_case_refs: pd.Series, case_refs: pd.Series) -> np.ndarray:
    """Row of each line's case in ``case_refs`` (-1 for a line of another case).

    Matches each distinct case once rather than every line: a ledger has ~25 lines a case.
    """
    codes, line_cases = pd.factorize(line_case_refs)
    return pd.Index(case_refs).get_indexer(line_cases)[codes]


def total_by_case(positions: np.ndarray, values: np.ndarray, count: int) -> np.ndarray:
    """Exact int64 total of ``values`` per case row (lines of other cases left out)."""
    totals = np.zeros(count, dtype=np.int64)
    ours = positions >= 0
    np.add.at(totals, positions[ours], values[ours])
    return totals


def date_by_case(
    positions: np.ndarray, dates: np.ndarray, count: int, pick: np.ufunc = np.maximum
) -> np.ndarray:
    """Latest (``np.maximum``) or earliest (``np.minimum``) of ``dates`` per case row, NaT if none.

    ``positions`` from ``case_positions``; ``dates`` datetime64 aligned with it (NaT ignored).
    """
    nanoseconds = np.asarray(dates, dtype="datetime64[ns]").view(np.int64)
    ours = (positions >= 0) & (nanoseconds != np.iinfo(np.int64).min)
    none = np.iinfo(np.int64).min if pick is np.maximum else np.iinfo(np.int64).max
    picked = np.full(count, none, dtype=np.int64)
    pick.at(picked, positions[ours], nanoseconds[ours])
    picked[picked == none] = np.iinfo(np.int64).min
    return picked.view("datetime64[ns]")


def creditor_balances(
    lines: pd.DataFrame, case_refs: pd.Series, amount: str = "amount_pence"
) -> pd.DataFrame:
    """Sum of ``amount`` per case and creditor, one row per case of ``case_refs`` (0 if none).

    Returns columns ``pwc_pence`` and ``sos_pence`` (int64), indexed by case reference.
    """
    positions = case_positions(lines["case_ref"], case_refs)
    values = lines[amount].to_numpy(dtype=np.int64)
    return pd.DataFrame(
        {
            f"{creditor.lower()}_pence": total_by_case(
                positions, np.where(lines["creditor"] == creditor, values, 0), len(case_refs)
            )
            for creditor in Creditor
        },
        index=pd.Index(case_refs, name="case_ref"),
    )


def per_case_value(line_case_refs: pd.Series, by_case: pd.Series) -> np.ndarray:
    """Broadcast a value known per case (``by_case``, indexed by case) to its lines."""
    codes, line_cases = pd.factorize(line_case_refs)
    return by_case.reindex(line_cases).to_numpy()[codes]
