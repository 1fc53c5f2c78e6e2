"""The canonical model's schemas pass what the systems map and refuse a broken mapping."""

from __future__ import annotations

import pandas as pd
import pytest

from extract.cscs import CSCS
from validate.canonical import CASE_COLUMNS, LEDGER_COLUMNS, PARTY_COLUMNS, CanonicalMappingError, check_canonical

DAY = pd.Timestamp("2014-06-30")


def canonical_batch():
    cases = pd.DataFrame(
        {
            "case_ref": ["C930000001"], "scheme": ["1993"], "legacy_case_id": [0],
            "nrp_ref": ["P000000001"], "pwc_ref": ["P000000002"], "case_start_date": [DAY],
            "status": ["LIVE"], "assessment_type": ["FULL"], "weekly_liability_pence": [2350],
            "payment_method": ["COLLECTION"], "enforcement_action": [None], "clerical": [False],
            "dv_marker": [False], "recorded_total_pence": [10_000], "recorded_sos_pence": [0],
            "nrp_deceased": [False], "pwc_deceased": [False], "nrp_untraced": [False],
            "pwc_untraced": [False], "nrp_abroad": [False], "pwc_abroad": [False], "extracted_on": [DAY],
        }
    ).astype({"enforcement_action": "str"})
    ledger = pd.DataFrame(
        {
            "case_ref": ["C930000001"], "line_ref": [1], "posted_date": [DAY], "kind": ["CHARGE"],
            "creditor": ["PWC"], "amount_pence": [10_000], "period_from": [DAY], "period_to": [pd.NaT],
        }
    )
    parties = pd.DataFrame(
        {
            "person_ref": ["P000000001", "P000000002"], "surname": ["A", "B"], "forenames": ["C", "D"],
            "address": ["1 Street", None], "postcode": ["AB1 2CD", None], "deceased": [False, False],
            "untraced": [False, True], "abroad": [False, False],
        }
    )
    return cases[CASE_COLUMNS], ledger[LEDGER_COLUMNS], parties[PARTY_COLUMNS]


def test_a_well_mapped_batch_passes():
    check_canonical(*canonical_batch(), CSCS.canonical, label="B001")


@pytest.mark.parametrize(
    ("frame", "column", "value", "says"),
    [
        (0, "status", "A", "status"),  # a CS2 code left unmapped
        (0, "recorded_total_pence", 23.5, "recorded_total_pence"),  # money as a float
        (0, "case_start_date", pd.NaT, "case_start_date"),
        (1, "case_ref", None, "case_ref"),  # a line whose case was not in the batch
        (1, "kind", "CHG", "kind"),
        (2, "untraced", None, "untraced"),
        (0, "scheme", "2003", "scheme"),  # another system's scheme
        (0, "case_ref", "S030000001", "case_ref"),  # another system's case reference
        (2, "person_ref", "CS2-1", "person_ref"),  # another system's person reference
    ],
)
def test_a_broken_mapping_fails_the_batch_naming_what_broke(frame, column, value, says):
    frames = list(canonical_batch())
    frames[frame][column] = value
    with pytest.raises(CanonicalMappingError, match=f"batch B007: .*{says}"):
        check_canonical(*frames, CSCS.canonical, label="B007")
