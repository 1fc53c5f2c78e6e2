"""The CS2 adapter (2003 scheme): coded values, DD/MM/YYYY text dates, unsigned pounds."""

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
from validate.checks import CS2_DATE, is_in, parse_dates, recode, to_int64

CREDIT_CODES = ("RCP", "ADJ-")
PARTY_PREFIX = "CS2-"


def party_ref(party_ids: pd.Series) -> pd.Series:
    """How a CS2 party is referred to outside CS2: ``CS2-<party_id>``."""
    return PARTY_PREFIX + party_ids


def _dates(values: pd.Series) -> pd.Series:
    return parse_dates(values, CS2_DATE)


def _pence(values: pd.Series) -> pd.Series:
    """Pounds with two decimals, validated, as pence: '23.50' -> 2350."""
    return to_int64(values, strip=".")


def parties_to_canonical(parties: pd.DataFrame) -> pd.DataFrame:
    """CS2 party rows (read as text) as canonical parties; shared by batches and letters."""
    return pd.DataFrame(
        {
            "person_ref": party_ref(parties["party_id"]),
            "surname": parties["family_name"],
            "forenames": parties["given_names"],
            "address": parties["addr"].str.replace("|", "\n", regex=False),
            "postcode": parties["post_code"],
            "deceased": parties["death_dt"].notna(),
            "untraced": parties["addr"].isna(),
            "abroad": flags(parties["overseas_flag"], "Y"),
        }
    )[PARTY_COLUMNS]


def to_canonical(
    cases: pd.DataFrame, parties: pd.DataFrame, txns: pd.DataFrame, extracted_on: pd.Timestamp
) -> CanonicalBatch:
    """Clean CS2 rows in the canonical model (docs/design.md)."""
    canonical_parties = parties_to_canonical(parties)
    canonical_cases = pd.DataFrame(
        {
            "case_ref": cases["case_number"],
            "scheme": "2003",
            "legacy_case_id": to_int64(cases["case_id"]),
            "nrp_ref": party_ref(cases["paying_party_id"]),
            "pwc_ref": party_ref(cases["receiving_party_id"]),
            "case_start_date": _dates(cases["effective_dt"]),
            "status": recode(cases["state_cd"], raw.CS2_STATES),
            "assessment_type": recode(cases["rate_cd"], raw.CS2_RATES),
            "weekly_liability_pence": _pence(cases["weekly_amt"]),
            "payment_method": recode(cases["collection_cd"], raw.CS2_COLLECTIONS),
            "enforcement_action": recode(cases["enf_cd"], raw.CS2_ENFORCEMENTS),
            "clerical": flags(cases["offline_ind"], "Y"),
            "dv_marker": flags(cases["dv_ind"], "Y"),
            "recorded_total_pence": _pence(cases["debt_amt"]),
            "recorded_sos_pence": _pence(cases["debt_sos_amt"]),
            "extracted_on": extracted_on,
        }
    )
    canonical_cases["extracted_on"] = canonical_cases["extracted_on"].astype("datetime64[ns]")
    case_numbers = pd.Series(cases["case_number"].array, index=cases["case_id"])
    unsigned = _pence(txns["amt"])
    canonical_ledger = pd.DataFrame(
        {
            "case_ref": recode(txns["case_id"], case_numbers),
            "line_ref": to_int64(txns["txn_id"]),
            "posted_date": _dates(txns["posted_dt"]),
            "kind": recode(txns["txn_cd"], raw.CS2_TXN_CODES),
            "creditor": recode(txns["owed_to"], raw.CS2_CREDITORS),
            "amount_pence": unsigned.where(~is_in(txns["txn_cd"], CREDIT_CODES), -unsigned),
            "period_from": _dates(txns["period_start_dt"]),
            "period_to": _dates(txns["period_end_dt"]),
        }
    )[LEDGER_COLUMNS]
    return CanonicalBatch(
        parent_flags(canonical_cases, canonical_parties)[CASE_COLUMNS],
        canonical_ledger,
        canonical_parties,
    )


def _party_ids(values: Iterable[str]) -> list[int]:
    return sorted({int(value) for value in values if value.isdigit()})


CS2 = LegacySystem(
    scheme="2003",
    case=raw.CS2_CASE,
    person=raw.CS2_PARTY,
    child=raw.CS2_CHILD,
    ledger=raw.CS2_TXN,
    case_table=schema.cs2_case,
    person_table=schema.cs2_party,
    child_table=schema.cs2_child,
    ledger_table=schema.cs2_txn,
    extract_table=schema.cs2_extract,
    extract_column="extract_dt",
    date_format=CS2_DATE,
    case_page_key="case_id",
    case_key_column="legacy_case_id",
    member_case_column="case_id",
    case_ref_column="case_number",
    parent_columns=("paying_party_id", "receiving_party_id"),
    person_lookup_keys=_party_ids,
    to_canonical=to_canonical,
)

