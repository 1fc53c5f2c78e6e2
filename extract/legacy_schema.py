"""The two legacy source schemas, exactly as CONTRACTS.md sections 1 and 2 give them.

The engine only reads these tables. They are declared here once so that the synthetic estate
generator, the extract adapters and the tests all agree on the contract.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
)

legacy_metadata = MetaData()

# --- CSCS, the 1993 scheme: clean, typed, pence -------------------------------------------

cscs_person = Table(
    "cscs_person",
    legacy_metadata,
    Column("person_ref", Text, primary_key=True),
    Column("surname", Text),
    Column("forenames", Text),
    Column("date_of_birth", Date),
    Column("nino", Text, nullable=True),
    Column("address_line1", Text, nullable=True),
    Column("address_line2", Text, nullable=True),
    Column("town", Text, nullable=True),
    Column("postcode", Text, nullable=True),
    Column("date_of_death", Date, nullable=True),
    Column("resides_abroad", Integer),
)

cscs_case = Table(
    "cscs_case",
    legacy_metadata,
    Column("case_ref", Text, primary_key=True),
    Column("nrp_ref", Text),
    Column("pwc_ref", Text),
    Column("case_start_date", Date),
    Column("case_status", Text),
    Column("assessment_type", Text),
    Column("weekly_liability_pence", Integer),
    Column("payment_method", Text),
    Column("enforcement_action", Text, nullable=True),
    Column("clerical", Integer),
    Column("dv_marker", Integer),
    Column("arrears_total_pence", Integer),
    Column("arrears_sos_pence", Integer),
)

cscs_child = Table(
    "cscs_child",
    legacy_metadata,
    Column("case_ref", Text),
    Column("child_seq", Integer),
    Column("date_of_birth", Date),
    PrimaryKeyConstraint("case_ref", "child_seq"),
)

cscs_extract = Table(
    "cscs_extract",
    legacy_metadata,
    Column("extracted_on", Date),
)

cscs_ledger = Table(
    "cscs_ledger",
    legacy_metadata,
    Column("case_ref", Text),
    Column("seq", Integer),
    Column("posted_date", Date),
    Column("txn_type", Text),
    Column("creditor", Text),
    Column("amount_pence", Integer),
    Column("period_from", Date, nullable=True),
    Column("period_to", Date, nullable=True),
    PrimaryKeyConstraint("case_ref", "seq"),
)

# --- CS2, the 2003 scheme: coded values, DD/MM/YYYY text dates, pounds as text -------------

cs2_party = Table(
    "cs2_party",
    legacy_metadata,
    Column("party_id", Integer, primary_key=True, autoincrement=False),
    Column("family_name", Text),
    Column("given_names", Text),
    Column("birth_dt", Text),
    Column("ni_number", Text, nullable=True),
    Column("addr", Text, nullable=True),
    Column("post_code", Text, nullable=True),
    Column("death_dt", Text, nullable=True),
    Column("overseas_flag", Text),
)

cs2_case = Table(
    "cs2_case",
    legacy_metadata,
    Column("case_id", Integer, primary_key=True, autoincrement=False),
    Column("case_number", Text),
    Column("paying_party_id", Integer),
    Column("receiving_party_id", Integer),
    Column("effective_dt", Text),
    Column("state_cd", Text),
    Column("rate_cd", Text),
    Column("weekly_amt", Text),
    Column("collection_cd", Text),
    Column("enf_cd", Text, nullable=True),
    Column("offline_ind", Text),
    Column("dv_ind", Text),
    Column("debt_amt", Text),
    Column("debt_sos_amt", Text),
    UniqueConstraint("case_number"),
)

cs2_child = Table(
    "cs2_child",
    legacy_metadata,
    Column("case_id", Integer),
    Column("child_no", Integer),
    Column("birth_dt", Text),
    PrimaryKeyConstraint("case_id", "child_no"),
)

cs2_extract = Table(
    "cs2_extract",
    legacy_metadata,
    Column("extract_dt", Text),
)

cs2_txn = Table(
    "cs2_txn",
    legacy_metadata,
    Column("txn_id", Integer, primary_key=True, autoincrement=False),
    Column("case_id", Integer),
    Column("posted_dt", Text),
    Column("txn_cd", Text),
    Column("owed_to", Text),
    Column("amt", Text),
    Column("period_start_dt", Text, nullable=True),
    Column("period_end_dt", Text, nullable=True),
)

CSCS_TABLES = (cscs_person, cscs_case, cscs_child, cscs_extract, cscs_ledger)
CS2_TABLES = (cs2_party, cs2_case, cs2_child, cs2_extract, cs2_txn)
