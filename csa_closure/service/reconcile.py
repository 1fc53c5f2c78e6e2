"""Reconciliation as the journey and the report run it: the rows read by ``load.reconcile``,
checked by ``transform.reconciliation``."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd
from sqlalchemy import Connection

from load import reconcile
from transform import reconciliation


class ReconciliationBreak(RuntimeError):
    """A batch whose pennies do not add up: it fails loudly and loads nothing."""

    def __init__(self, batch_id: str, breaks: list[str]) -> None:
        shown = "; ".join(breaks[:5]) + (f"; and {len(breaks) - 5} more" if len(breaks) > 5 else "")
        super().__init__(f"reconciliation of {batch_id} failed: {shown}")
        self.batch_id = batch_id
        self.breaks = breaks


def require_reconciled(conn: Connection, batch_id: str, case_refs: Sequence[str] | None = None) -> None:
    """Inside a unit's transaction: its batch (or the cases of it the unit changed) reconciles,
    or the unit fails and commits nothing."""
    breaks = reconciliation.batch_breaks(reconcile.batch_rows(conn, batch_id, case_refs))
    if breaks:
        raise ReconciliationBreak(batch_id, breaks)


def money_totals(conn: Connection, tranche_id: str | None = None) -> pd.DataFrame:
    """Pennies per tranche, segment, scheme and creditor, with the difference, which must be zero."""
    return reconciliation.money_totals(reconcile.money_rows(conn, tranche_id))
