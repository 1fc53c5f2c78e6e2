"""CSCS, the 1993 scheme (CONTRACTS.md section 1): typed columns, pence, ISO dates, and the
canonical model's own codes."""

from __future__ import annotations

import pandas as pd

from extract import legacy_schema as schema
from extract.legacy_system import LegacySystem, codes_of, flags, same
from transform.references import PersonRefFormat
from validate import canonical, raw
from validate.canonical import PARTY_COLUMNS
from validate.checks import ISO_DATE, code, identifier, parse_pence, pence, ref
from validate.raw import date, optional, required

CODES = {column: same(codes) for column, codes in canonical.CODES.items()}
FLAGS = ("0", "1")
CASE_REFS = r"C93\d{7}"
PERSON_REFS = PersonRefFormat(r"P\d{9}", "P + 9 digits")
"""A CSCS person is named by its own key."""

PERSON = raw.contract(
    "cscs_person",
    {
        "person_ref": required(ref(PERSON_REFS.pattern)),
        "date_of_birth": date(ISO_DATE, nullable=True),
        "date_of_death": date(ISO_DATE, nullable=True),
        "resides_abroad": required(code(FLAGS)),
    },
    key=("person_ref",),
)

CASE = raw.contract(
    "cscs_case",
    {
        "case_ref": required(ref(CASE_REFS), holds="case_ref"),
        "nrp_ref": required(ref(PERSON_REFS.pattern), holds="nrp_ref"),
        "pwc_ref": required(ref(PERSON_REFS.pattern), holds="pwc_ref"),
        "case_start_date": date(ISO_DATE, holds="case_start_date"),
        "case_status": required(code(CODES["status"]), holds="status"),
        "assessment_type": required(code(CODES["assessment_type"]), holds="assessment_type"),
        "weekly_liability_pence": required(pence(), holds="weekly_liability_pence"),
        "payment_method": required(code(CODES["payment_method"]), holds="payment_method"),
        "enforcement_action": optional(code(CODES["enforcement_action"]), holds="enforcement_action"),
        "clerical": required(code(FLAGS), holds="clerical"),
        "dv_marker": required(code(FLAGS), holds="dv_marker"),
        "arrears_total_pence": required(pence(), holds="recorded_total_pence"),
        "arrears_sos_pence": required(pence(), holds="recorded_sos_pence"),
    },
    key=("case_ref",),
    row_checks=(raw.sos_within_total("arrears_total_pence", "arrears_sos_pence", parse_pence),),
)

CHILD = raw.contract(
    "cscs_child",
    {
        "case_ref": required(ref(CASE_REFS)),
        "child_seq": required(identifier()),
        "date_of_birth": date(ISO_DATE, nullable=True),
    },
    key=("case_ref", "child_seq"),
)

LEDGER = raw.contract(
    "cscs_ledger",
    {
        "case_ref": required(ref(CASE_REFS)),
        "seq": required(identifier(), holds="line_ref"),
        "posted_date": date(ISO_DATE, holds="posted_date"),
        "txn_type": required(code(CODES["kind"]), holds="kind"),
        "creditor": required(code(CODES["creditor"]), holds="creditor"),
        "amount_pence": required(pence(), holds="amount_pence"),
        "period_from": date(ISO_DATE, nullable=True, holds="period_from"),
        "period_to": date(ISO_DATE, nullable=True, holds="period_to"),
    },
    key=("case_ref", "seq"),
    row_checks=(
        raw.sign_agrees(
            "txn_type",
            "amount_pence",
            raising=codes_of(CODES["kind"], ("CHARGE", "IMA_CHARGE")),
            lowering=codes_of(CODES["kind"], ("RECEIPT",)),
        ),
        raw.period_in_order("period_from", "period_to"),
    ),
)


def persons_to_canonical(persons: pd.DataFrame) -> pd.DataFrame:
    """CSCS person rows (read as text) as canonical parties; shared by batches and letters."""
    return pd.DataFrame(
        {
            "person_ref": PERSON_REFS.refs(persons["person_ref"]),
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


CSCS = LegacySystem(
    name="CSCS",
    scheme="1993",
    case=CASE,
    person=PERSON,
    child=CHILD,
    ledger=LEDGER,
    extract_table=schema.cscs_extract,
    extract_column="extracted_on",
    date_format=ISO_DATE,
    true_flag="1",
    codes=CODES,
    case_refs=CASE_REFS,
    person_refs=PERSON_REFS,
    persons_to_canonical=persons_to_canonical,
)
