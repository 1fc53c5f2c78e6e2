"""CS2, the 2003 scheme (CONTRACTS.md section 2): coded values, DD/MM/YYYY text dates, unsigned
pounds as text, integer keys."""

from __future__ import annotations

import pandas as pd

from extract import legacy_schema as schema
from extract.legacy_system import LegacySystem, flags
from transform.references import PersonRefFormat
from validate import raw
from validate.canonical import PARTY_COLUMNS
from validate.checks import CS2_DATE, code, identifier, parse_pounds, pounds, pounds_as_pence, ref
from validate.raw import date, optional, required

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
        "case_id": required(identifier(), holds="legacy_case_id"),
        "case_number": required(ref(CASE_REFS), holds="case_ref"),
        "paying_party_id": required(identifier(), holds="nrp_ref"),
        "receiving_party_id": required(identifier(), holds="pwc_ref"),
        "effective_dt": date(CS2_DATE, holds="case_start_date"),
        "state_cd": required(code(CODES["status"]), holds="status"),
        "rate_cd": required(code(CODES["assessment_type"]), holds="assessment_type"),
        "weekly_amt": required(pounds(), holds="weekly_liability_pence"),
        "collection_cd": required(code(CODES["payment_method"]), holds="payment_method"),
        "enf_cd": optional(code(CODES["enforcement_action"]), holds="enforcement_action"),
        "offline_ind": required(code(FLAGS), holds="clerical"),
        "dv_ind": required(code(FLAGS), holds="dv_marker"),
        "debt_amt": required(pounds(), holds="recorded_total_pence"),
        "debt_sos_amt": required(pounds(), holds="recorded_sos_pence"),
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
        "txn_id": required(identifier(), holds="line_ref"),
        "case_id": required(identifier()),
        "posted_dt": date(CS2_DATE, holds="posted_date"),
        "txn_cd": required(code(CODES["kind"]), holds="kind"),
        "owed_to": required(code(CODES["creditor"]), holds="creditor"),
        "amt": required(pounds(), holds="amount_pence"),
        "period_start_dt": date(CS2_DATE, nullable=True, holds="period_from"),
        "period_end_dt": date(CS2_DATE, nullable=True, holds="period_to"),
    },
    key=("txn_id",),
    row_checks=(raw.period_in_order("period_start_dt", "period_end_dt"),),
)


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
    to_pence=pounds_as_pence,
    credit_codes=CREDIT_CODES,
    true_flag="Y",
    codes=CODES,
    case_refs=CASE_REFS,
    person_refs=PERSON_REFS,
    persons_to_canonical=parties_to_canonical,
)
