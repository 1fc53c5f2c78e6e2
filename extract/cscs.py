"""The CSCS adapter (1993 scheme): typed, pence, ISO dates."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from extract import legacy_schema as schema
from extract.systems import (
    CASE_COLUMNS,
    LEDGER_COLUMNS,
    PARTY_COLUMNS,
    CanonicalBatch,
    LegacySystem,
    flags,
    parent_flags,
)
from validate import raw
from validate.checks import ISO_DATE, parse_dates, to_int64


def _dates(values: pd.Series) -> pd.Series:
    return parse_dates(values, ISO_DATE)


def _pence(values: pd.Series) -> pd.Series:
    return to_int64(values)


def persons_to_canonical(persons: pd.DataFrame) -> pd.DataFrame:
    """CSCS person rows (read as text) as canonical parties; shared by batches and letters."""
    return pd.DataFrame(
        {
            "person_ref": persons["person_ref"],
            "surname": persons["surname"],
            "forenames": persons["forenames"],
            "address": persons["address_line1"]
            .str.cat([persons["address_line2"], persons["town"]], sep="\n", na_rep="")
            .str.replace(r"\n+", "\n", regex=True)
            .str.strip("\n")
            .where(persons["address_line1"].notna()),
            "postcode": persons["postcode"],
            "deceased": persons["date_of_death"].notna(),
            "untraced": persons["address_line1"].isna(),
            "abroad": flags(persons["resides_abroad"], "1"),
        }
    )[PARTY_COLUMNS]


def to_canonical(
    cases: pd.DataFrame, persons: pd.DataFrame, ledger: pd.DataFrame, extracted_on: pd.Timestamp
) -> CanonicalBatch:
    """Clean CSCS rows in the canonical model (docs/design.md)."""
    parties = persons_to_canonical(persons)
    canonical_cases = pd.DataFrame(
        {
            "case_ref": cases["case_ref"],
            "scheme": "1993",
            "legacy_case_id": 0,
            "nrp_ref": cases["nrp_ref"],
            "pwc_ref": cases["pwc_ref"],
            "case_start_date": _dates(cases["case_start_date"]),
            "status": cases["case_status"],
            "assessment_type": cases["assessment_type"],
            "weekly_liability_pence": _pence(cases["weekly_liability_pence"]),
            "payment_method": cases["payment_method"],
            "enforcement_action": cases["enforcement_action"],
            "clerical": flags(cases["clerical"], "1"),
            "dv_marker": flags(cases["dv_marker"], "1"),
            "recorded_total_pence": _pence(cases["arrears_total_pence"]),
            "recorded_sos_pence": _pence(cases["arrears_sos_pence"]),
            "extracted_on": extracted_on,
        }
    )
    canonical_cases["legacy_case_id"] = canonical_cases["legacy_case_id"].astype("int64")
    canonical_cases["extracted_on"] = canonical_cases["extracted_on"].astype("datetime64[ns]")
    canonical_ledger = pd.DataFrame(
        {
            "case_ref": ledger["case_ref"],
            "line_ref": to_int64(ledger["seq"]),
            "posted_date": _dates(ledger["posted_date"]),
            "kind": ledger["txn_type"],
            "creditor": ledger["creditor"],
            "amount_pence": _pence(ledger["amount_pence"]),
            "period_from": _dates(ledger["period_from"]),
            "period_to": _dates(ledger["period_to"]),
        }
    )[LEDGER_COLUMNS]
    return CanonicalBatch(
        parent_flags(canonical_cases, parties)[CASE_COLUMNS], canonical_ledger, parties
    )


def _person_refs(values: Iterable[str]) -> list[str]:
    return sorted(set(values))


CSCS = LegacySystem(
    scheme="1993",
    case=raw.CSCS_CASE,
    person=raw.CSCS_PERSON,
    child=raw.CSCS_CHILD,
    ledger=raw.CSCS_LEDGER,
    case_table=schema.cscs_case,
    person_table=schema.cscs_person,
    child_table=schema.cscs_child,
    ledger_table=schema.cscs_ledger,
    extract_table=schema.cscs_extract,
    extract_column="extracted_on",
    date_format=ISO_DATE,
    case_page_key="case_ref",
    member_case_column="case_ref",
    case_ref_column="case_ref",
    parent_columns=("nrp_ref", "pwc_ref"),
    person_lookup_keys=_person_refs,
    to_canonical=to_canonical,
)
