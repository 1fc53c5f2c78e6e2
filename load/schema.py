"""The target database's tables: the contract tables of CONTRACTS.md section 3 and the
engine's own control tables. Alembic migrations (``load/migrations``) create and upgrade them.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Index,
    Integer,
    MetaData,
    Table,
    Text,
)

target_metadata = MetaData()

# --- contract tables ----------------------------------------------------------------------

quarantine = Table(
    "quarantine",
    target_metadata,
    Column("id", Integer, primary_key=True),
    Column("source_table", Text, nullable=False),
    Column("source_key", Text, nullable=False),
    Column("reasons", Text, nullable=False),
    Column("raw", Text, nullable=False),
    Column("extract_run", Text, nullable=False),
    Column("first_seen", Date, nullable=False),
    Column("last_seen", Date, nullable=False),
    Index("ux_quarantine_record", "source_table", "source_key", unique=True),
)

# --- control tables -----------------------------------------------------------------------

extract_run = Table(
    "extract_run",
    target_metadata,
    Column("extract_run", Text, primary_key=True),
    Column("scheme", Text, nullable=False),
    Column("extracted_on", Date, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Column("cases_extracted", Integer, nullable=False, default=0),
    Column("cases_clean", Integer, nullable=False, default=0),
    Column("cases_held", Integer, nullable=False, default=0),
    Column("records_quarantined", Integer, nullable=False, default=0),
)

legacy_case = Table(
    "legacy_case",
    target_metadata,
    Column("case_ref", Text, primary_key=True),
    Column("scheme", Text, nullable=False),
    Column("legacy_case_id", BigInteger, nullable=False),
    Column("nrp_ref", Text, nullable=False),
    Column("pwc_ref", Text, nullable=False),
    Column("case_start_date", Date, nullable=False),
    Column("status", Text, nullable=False),
    Column("assessment_type", Text, nullable=False),
    Column("weekly_liability_pence", BigInteger, nullable=False),
    Column("payment_method", Text, nullable=False),
    Column("enforcement_action", Text),
    Column("clerical", Boolean, nullable=False),
    Column("dv_marker", Boolean, nullable=False),
    Column("recorded_total_pence", BigInteger, nullable=False),
    Column("recorded_sos_pence", BigInteger, nullable=False),
    Column("nrp_deceased", Boolean, nullable=False),
    Column("pwc_deceased", Boolean, nullable=False),
    Column("nrp_untraced", Boolean, nullable=False),
    Column("pwc_untraced", Boolean, nullable=False),
    Column("nrp_abroad", Boolean, nullable=False),
    Column("pwc_abroad", Boolean, nullable=False),
    Column("last_receipt_on", Date),
    Column("extracted_on", Date, nullable=False),
    Column("extract_run", Text, nullable=False),
    Index("ix_legacy_case_nrp", "nrp_ref"),
)
"""The latest clean snapshot of each legacy case: what selection classifies without the ledger."""

held_case = Table(
    "held_case",
    target_metadata,
    Column("case_ref", Text, primary_key=True),
    Column("scheme", Text, nullable=False),
    Column("extract_run", Text, nullable=False),
    Column("held_since", Date, nullable=False),
)
"""Cases held back because a record of theirs is in quarantine for the latest extract."""
