"""Section 2: which segment a case is in on a selection date, and the look-back on receipts.

Classification reads only the canonical ``cases`` columns plus a per-case ``last_receipt_on``
(the latest receipt posted on or before the reference date), so the whole estate can be
classified without its ledger.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from csa_closure.settings import RuleSettings
from transform.codes import LineKind
from transform.dates import reference_date
from transform.ledger import case_positions, date_by_case

NOTHING_TO_DO = 0
"""Out of scope: no ongoing liability and a zero recorded balance; counted, never selected."""

LIVE = "LIVE"
DEO = "DEO"


def last_receipt_on(ledger: pd.DataFrame, reference_dates: pd.Series) -> pd.Series:
    """Latest receipt posted on or before each case's reference date (NaT if none).

    ``reference_dates`` is indexed by case reference; the result has the same index. A receipt
    after the reference date is unknown to the rule even when the extract holds it.
    """
    receipts = ledger[ledger["kind"] == LineKind.RECEIPT]
    positions = case_positions(receipts["case_ref"], reference_dates.index)
    posted = receipts["posted_date"].to_numpy(dtype="datetime64[ns]")
    unknown_case = np.datetime64("NaT", "ns")  # what position -1 picks
    reference = np.append(reference_dates.to_numpy(dtype="datetime64[ns]"), unknown_case)
    known = np.where(posted <= reference[positions], positions, -1)
    latest = date_by_case(known, posted, len(reference_dates))
    return pd.Series(latest, index=reference_dates.index, name="last_receipt_on")


def is_paying(last_receipt: pd.Series, reference: pd.Series, rules: RuleSettings) -> pd.Series:
    """A receipt posted in the 91 days ending on the reference date (posted > reference − 91)."""
    window_start = reference - pd.Timedelta(days=rules.receipt_lookback_days)
    return (last_receipt > window_start) & (last_receipt <= reference)


def classify_segments(cases: pd.DataFrame, as_of: pd.Timestamp, rules: RuleSettings) -> pd.Series:
    """Segment 1–6 of each case as of a selection date, or NOTHING_TO_DO; the first match wins.

    ``cases`` holds the canonical columns ``status``, ``weekly_liability_pence``,
    ``payment_method``, ``enforcement_action``, ``clerical``, ``recorded_total_pence``,
    ``extracted_on`` and ``last_receipt_on``. Returns int8 aligned with ``cases``.
    """
    ongoing = (cases["status"] == LIVE).to_numpy()
    weekly = cases["weekly_liability_pence"].to_numpy()
    reference = reference_date(as_of, cases["extracted_on"])
    paying = is_paying(cases["last_receipt_on"], reference, rules).to_numpy()
    enforced = (cases["payment_method"] == DEO).to_numpy() | cases[
        "enforcement_action"
    ].notna().to_numpy()
    rules_in_order = [
        (~ongoing & (cases["recorded_total_pence"].to_numpy() != 0), 6),
        (ongoing & (weekly == 0), 1),
        (ongoing & enforced, 5),
        (ongoing & (weekly > 0) & ~paying, 2),
        (ongoing & cases["clerical"].to_numpy(dtype=bool), 3),
        (ongoing, 4),
    ]
    segment = np.select(
        [condition for condition, _ in rules_in_order],
        [np.int8(number) for _, number in rules_in_order],
        default=np.int8(NOTHING_TO_DO),
    )
    return pd.Series(segment.astype("int8"), index=cases.index, name="segment")


def segments_as_extracted(cases: pd.DataFrame, ledger: pd.DataFrame, rules: RuleSettings) -> pd.DataFrame:
    """Each clean case's last receipt and segment as of its extract date, kept in the snapshot.

    The look-back ends on the reference date, the earlier of the selection date and the extract
    date, so for any selection on or after the extract date this is the case's segment: a
    selection reads it instead of classifying the estate again. Returns ``case_ref``,
    ``last_receipt_on``, ``segment``.
    """
    extracted = cases.set_index("case_ref")["extracted_on"]
    receipts = last_receipt_on(ledger, extracted)
    dated = cases.assign(last_receipt_on=receipts.reindex(cases["case_ref"]).to_numpy())
    latest = pd.Timestamp(extracted.max()) if len(extracted) else pd.Timestamp.min
    return pd.DataFrame(
        {
            "case_ref": cases["case_ref"].to_numpy(),
            "last_receipt_on": dated["last_receipt_on"].to_numpy(),
            "segment": classify_segments(dated, latest, rules).to_numpy(),
        }
    )


def segment_rules(rules: RuleSettings) -> str:
    """The settings a kept segment depends on, as recorded with each extract: when they
    change, the snapshot's segments are classified again by a new extract."""
    return f"receipt_lookback_days={rules.receipt_lookback_days}"
