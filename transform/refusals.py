"""Refusal reasons for recorded events: each event gets the first check it fails, or None."""

from __future__ import annotations

import numpy as np
import pandas as pd

Check = tuple[pd.Series | np.ndarray, pd.Series | str]
"""(refused mask, reason): the reason may differ per event, e.g. naming its deadline."""


def first_refusal(index: pd.Index, checks: list[Check]) -> pd.Series:
    """The reason of the first check each event fails, in the order given (None if it passes)."""
    reasons = pd.Series(None, index=index, dtype="str")
    for refused, reason in checks:
        reasons = reasons.mask(np.asarray(refused, dtype=bool) & reasons.isna().to_numpy(), reason)
    return reasons
