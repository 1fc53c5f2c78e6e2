"""Section 9: the monthly instalments a transferred amount is collected in (project rule).

n = min(36, ceil(amount / 500)) instalments, due on the first of each month after the
transfer date; each is floor(amount / n) and the last takes the remainder, so they sum exactly
to the amount. The schedule depends only on the transfer date, so a catch-up run loads the same.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings


def instalment_count(amount_pence: np.ndarray, rules: RuleSettings) -> np.ndarray:
    """n = min(36, ceil(amount / 500)): small debts are not spread thinner than £5 a month."""
    return np.minimum(rules.max_instalments, -(-amount_pence // rules.instalment_unit_pence))


def instalment_schedule(lines: pd.DataFrame, rules: RuleSettings) -> pd.DataFrame:
    """One row per instalment of each transferred line.

    ``lines``: ``amount_pence``, ``transferred_on`` and any identifying columns, which are
    repeated on each instalment. Returns those columns + ``instalment_no`` (from 1),
    ``due_on``, ``amount_pence``.
    """
    amount = lines["amount_pence"].to_numpy(dtype=np.int64)
    count = instalment_count(amount, rules)
    line = np.repeat(np.arange(len(lines)), count)
    starts = np.cumsum(count) - count
    number = np.arange(len(line)) - starts[line] + 1
    each = amount // np.maximum(count, 1)
    last = number == count[line]
    first_due = lines["transferred_on"].to_numpy().astype("datetime64[M]") + np.timedelta64(1, "M")
    schedule = (
        lines.drop(columns=["amount_pence", "transferred_on"]).iloc[line].reset_index(drop=True)
    )
    schedule["instalment_no"] = number
    schedule["due_on"] = (first_due[line] + (number - 1).astype("timedelta64[M]")).astype(
        "datetime64[ns]"
    )
    schedule["amount_pence"] = np.where(
        last, amount[line] - each[line] * (count[line] - 1), each[line]
    )
    return schedule
