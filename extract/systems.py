"""What the batch reader needs to know of a legacy system, and the canonical frames it maps to."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Table

from validate.raw import RawContract


@dataclass(frozen=True)
class CanonicalBatch:
    """The canonical model of docs/design.md: cases, their ledger lines and their parents."""

    cases: pd.DataFrame
    ledger: pd.DataFrame
    parties: pd.DataFrame


@dataclass(frozen=True)
class LegacySystem:
    """One legacy system: its tables, keys and the mapping of clean raw rows to canonical."""

    scheme: str
    case: RawContract
    person: RawContract
    child: RawContract
    ledger: RawContract
    case_table: Table
    person_table: Table
    child_table: Table
    ledger_table: Table
    extract_table: Table
    extract_column: str
    date_format: str
    case_page_key: str
    member_case_column: str
    case_ref_column: str
    parent_columns: tuple[str, str]
    person_lookup_keys: Callable[[Iterable[str]], list]
    to_canonical: Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Timestamp], CanonicalBatch]
    case_key_column: str = "case_ref"
    """The canonical case column that holds the case table's key (CS2: ``legacy_case_id``)."""


def flags(values: pd.Series, true_value: str) -> pd.Series:
    return (values == true_value).fillna(False).astype(bool)


def parent_flags(cases: pd.DataFrame, parties: pd.DataFrame) -> pd.DataFrame:
    """Each case's NRP and PWC flags (deceased, untraced, abroad) from the canonical parties."""
    flagged = parties.set_index("person_ref")[["deceased", "untraced", "abroad"]]
    out = cases
    for role in ("nrp", "pwc"):
        joined = flagged.reindex(cases[f"{role}_ref"]).reset_index(drop=True)
        joined.index = cases.index
        for flag in ("deceased", "untraced", "abroad"):
            out[f"{role}_{flag}"] = joined[flag].fillna(False).astype(bool)
    return out


CASE_COLUMNS = [
    "case_ref", "scheme", "legacy_case_id", "nrp_ref", "pwc_ref", "case_start_date", "status",
    "assessment_type", "weekly_liability_pence", "payment_method", "enforcement_action",
    "clerical", "dv_marker", "recorded_total_pence", "recorded_sos_pence",
    "nrp_deceased", "pwc_deceased", "nrp_untraced", "pwc_untraced", "nrp_abroad", "pwc_abroad",
    "extracted_on",
]
LEDGER_COLUMNS = [
    "case_ref", "line_ref", "posted_date", "kind", "creditor", "amount_pence", "period_from",
    "period_to",
]
PARTY_COLUMNS = [
    "person_ref", "surname", "forenames", "address", "postcode", "deceased", "untraced", "abroad",
]
