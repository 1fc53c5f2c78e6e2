"""CS2, the 2003 scheme (CONTRACTS.md section 2): coded values, DD/MM/YYYY text dates, unsigned
pounds as text, integer keys."""

from __future__ import annotations

import pandas as pd

from csa_closure.text import is_in
from extract import legacy_schema as schema
from extract.legacy_system import CanonicalBatch, LegacySystem, canonical_batch, flags
from transform.references import PersonRefFormat
from validate import raw
from validate.canonical import PARTY_COLUMNS
from validate.checks import CS2_DATE, code, identifier, parse_pounds, pounds, recode, ref, to_int64
from validate.raw import ParsedRows, date, optional, required

CODES = {
    "status": {"A": "LIVE", "R": "ARREARS_ONLY", "X": "CLOSED"},
    "assessment_type": {"BAS": "FULL", "RED": "FULL", "FLT": "FULL", "NIL": "NIL", "DFT": "INTERIM"},
    "payment_method": {"CP": "COLLECTION", "DP": "MAINTENANCE_DIRECT", "DEO": "DEO", "NON": "NONE"},
    "enforcement_action": {
        "LO": "LIABILITY_ORDER",
        "CO": "CHARGING_ORDER",
        "OFS": "ORDER_FOR_SALE",
        "RDO": "DEDUCTION_ORDER",
        "LSDO": "DEDUCTION_ORDER",
        "EA": "ENFORCEMENT_AGENT",
        "DDQ": "DRIVING_DISQUALIFICATION",
        "COM": "COMMITTAL",
    },
    "kind": {"CHG": "CHARGE", "RCP": "RECEIPT", "ADJ+": "ADJUSTMENT", "ADJ-": "ADJUSTMENT"},
    "creditor": {"RP": "PWC", "SS": "SOS"},
}
CREDIT_CODES = ("RCP", "ADJ-")
"""The transaction codes whose (unsigned) amount lowers the debt."""
FLAGS = ("Y", "N")
CASE_REFS = r"S03\d{7}"
PERSON_REFS = PersonRefFormat(r"CS2-\d+", "CS2-<digits>", prefix="CS2-")
"""A CS2 party is named outside CS2 as ``CS2-<party_id>``."""

PARTY = raw.contract(
    "cs2_party",
    {
        "party_id": required(identifier()),
        "birth_dt": date(CS2_DATE, nullable=True),
        "death_dt": date(CS2_DATE, nullable=True),
        "overseas_flag": required(code(FLAGS)),
    },
    key=("party_id",),
)

CASE = raw.contract(
    "cs2_case",
    {
        "case_id": required(identifier()),
        "case_number": required(ref(CASE_REFS)),
        "paying_party_id": required(identifier()),
        "receiving_party_id": required(identifier()),
        "effective_dt": date(CS2_DATE),
        "state_cd": required(code(CODES["status"])),
        "rate_cd": required(code(CODES["assessment_type"])),
        "weekly_amt": required(pounds()),
        "collection_cd": required(code(CODES["payment_method"])),
        "enf_cd": optional(code(CODES["enforcement_action"])),
        "offline_ind": required(code(FLAGS)),
        "dv_ind": required(code(FLAGS)),
        "debt_amt": required(pounds()),
        "debt_sos_amt": required(pounds()),
    },
    key=("case_id",),
    row_checks=(raw.sos_within_total("debt_amt", "debt_sos_amt", parse_pounds),),
)

CHILD = raw.contract(
    "cs2_child",
    {
        "case_id": required(identifier()),
        "child_no": required(identifier()),
        "birth_dt": date(CS2_DATE, nullable=True),
    },
    key=("case_id", "child_no"),
)

TXN = raw.contract(
    "cs2_txn",
    {
        "txn_id": required(identifier()),
        "case_id": required(identifier()),
        "posted_dt": date(CS2_DATE),
        "txn_cd": required(code(CODES["kind"])),
        "owed_to": required(code(CODES["creditor"])),
        "amt": required(pounds()),
        "period_start_dt": date(CS2_DATE, nullable=True),
        "period_end_dt": date(CS2_DATE, nullable=True),
    },
    key=("txn_id",),
    row_checks=(raw.period_in_order("period_start_dt", "period_end_dt"),),
)


def _pence(values: pd.Series) -> pd.Series:
    """Pounds with two decimals, validated, as pence: '23.50' -> 2350."""
    return to_int64(values, strip=".")


def parties_to_canonical(parties: pd.DataFrame) -> pd.DataFrame:
    """CS2 party rows (read as text) as canonical parties; shared by batches and letters."""
    return pd.DataFrame(
        {
            "person_ref": PERSON_REFS.refs(parties["party_id"]),
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
    cases: ParsedRows, parties: ParsedRows, txns: ParsedRows, extracted_on: pd.Timestamp
) -> CanonicalBatch:
    """Clean CS2 rows in the canonical model (docs/design.md)."""
    canonical_parties = parties_to_canonical(parties.text)
    case = cases.text
    canonical_cases = pd.DataFrame(
        {
            "case_ref": case["case_number"],
            "scheme": CS2.scheme,
            "legacy_case_id": to_int64(case["case_id"]),
            "nrp_ref": PERSON_REFS.refs(case["paying_party_id"]),
            "pwc_ref": PERSON_REFS.refs(case["receiving_party_id"]),
            "case_start_date": cases.dates["effective_dt"],
            "status": recode(case["state_cd"], CODES["status"]),
            "assessment_type": recode(case["rate_cd"], CODES["assessment_type"]),
            "weekly_liability_pence": _pence(case["weekly_amt"]),
            "payment_method": recode(case["collection_cd"], CODES["payment_method"]),
            "enforcement_action": recode(case["enf_cd"], CODES["enforcement_action"]),
            "clerical": flags(case["offline_ind"], "Y"),
            "dv_marker": flags(case["dv_ind"], "Y"),
            "recorded_total_pence": _pence(case["debt_amt"]),
            "recorded_sos_pence": _pence(case["debt_sos_amt"]),
            "extracted_on": extracted_on,
        }
    )
    case_numbers = pd.Series(case["case_number"].array, index=case["case_id"])
    txn = txns.text
    unsigned = _pence(txn["amt"])
    canonical_ledger = pd.DataFrame(
        {
            "case_ref": recode(txn["case_id"], case_numbers),
            "line_ref": to_int64(txn["txn_id"]),
            "posted_date": txns.dates["posted_dt"],
            "kind": recode(txn["txn_cd"], CODES["kind"]),
            "creditor": recode(txn["owed_to"], CODES["creditor"]),
            "amount_pence": unsigned.where(~is_in(txn["txn_cd"], CREDIT_CODES), -unsigned),
            "period_from": txns.dates["period_start_dt"],
            "period_to": txns.dates["period_end_dt"],
        }
    )
    return canonical_batch(canonical_cases, canonical_ledger, canonical_parties)


CS2 = LegacySystem(
    name="CS2",
    scheme="2003",
    case=CASE,
    person=PARTY,
    child=CHILD,
    ledger=TXN,
    extract_table=schema.cs2_extract,
    extract_column="extract_dt",
    date_format=CS2_DATE,
    snapshot_key_column="legacy_case_id",
    case_ref_column="case_number",
    parent_columns=("paying_party_id", "receiving_party_id"),
    case_refs=CASE_REFS,
    person_refs=PERSON_REFS,
    codes=CODES,
    to_canonical=to_canonical,
    persons_to_canonical=parties_to_canonical,
)
