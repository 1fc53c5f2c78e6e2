"""Simulated parents for ``simulate``: who applies to the CMS, who answers the arrears choice
and how, and who never answers. Deterministic: a case's behaviour depends only on the seed
and its reference, however the simulation is stepped."""

from __future__ import annotations

import numpy as np
import pandas as pd

APPLY_SHARE = 0.25
"""Receiving parents who apply to the CMS before liability ends."""
DIRECT_PAY_SHARE = 0.6
"""Of those, the share choosing Direct Pay; the rest choose Collect and Pay."""
COLLECT_SHARE = 0.45
WRITE_OFF_SHARE = 0.20
"""Answers to the arrears choice; the rest (35%) never answer and are written off."""
EXTENSION_SHARE = 0.05
"""Silent parents who first ask for more time (and then still do not answer)."""


def _draws(case_refs: pd.Series, seed: int, purpose: int) -> np.ndarray:
    """Uniform numbers in [0, 1) per case, fixed by (seed, purpose, case reference)."""
    hashed = pd.util.hash_pandas_object(case_refs, index=False).to_numpy(dtype=np.uint64)
    salted = hashed ^ np.uint64((seed * 1_000_003 + purpose) & 0xFFFFFFFFFFFF)
    return (salted % np.uint64(1_000_000)).astype(np.float64) / 1_000_000


def applications(selected: pd.DataFrame, seed: int) -> pd.DataFrame:
    """CMS applications of selected cases with a liability end: ``case_ref``, ``service``,
    ``received`` (between selection and the day before liability ends)."""
    draw = _draws(selected["case_ref"], seed, 1)
    applying = selected[draw < APPLY_SHARE]
    window = (applying["liability_end_date"] - applying["selected_on"]).dt.days - 1
    offset = (_draws(applying["case_ref"], seed, 2) * window).astype("int64")
    service = np.where(
        _draws(applying["case_ref"], seed, 3) < DIRECT_PAY_SHARE, "direct-pay", "collect-and-pay"
    )
    return pd.DataFrame(
        {
            "event": "application",
            "case": applying["case_ref"].to_numpy(),
            "service": service,
            "received": (applying["selected_on"] + pd.to_timedelta(offset, unit="D")).to_numpy(),
        }
    )


def answers(awaiting: pd.DataFrame, window_days: int, seed: int) -> pd.DataFrame:
    """Answers (and requests for more time) of cases awaiting the choice: ``event``, ``case``,
    ``choice``, ``received``; always inside the window that ends on ``choice_deadline``."""
    draw = _draws(awaiting["case_ref"], seed, 4)
    day_in_window = (_draws(awaiting["case_ref"], seed, 5) * window_days).astype("int64")
    received = awaiting["choice_deadline"] - pd.to_timedelta(day_in_window, unit="D")
    choice = np.select([draw < COLLECT_SHARE, draw < COLLECT_SHARE + WRITE_OFF_SHARE], ["collect", "write-off"], "")
    extension = (draw >= 1 - EXTENSION_SHARE)
    answering = choice != ""
    return pd.DataFrame(
        {
            "event": np.where(answering, "choice", "extension")[answering | extension],
            "case": awaiting["case_ref"].to_numpy()[answering | extension],
            "choice": choice[answering | extension],
            "received": received.to_numpy()[answering | extension],
        }
    )
