"""Extract stage: quarantine, extract runs, the clean case snapshot and held cases.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "quarantine",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source_table", sa.Text, nullable=False),
        sa.Column("source_key", sa.Text, nullable=False),
        sa.Column("reasons", sa.Text, nullable=False),
        sa.Column("raw", sa.Text, nullable=False),
        sa.Column("extract_run", sa.Text, nullable=False),
        sa.Column("first_seen", sa.Date, nullable=False),
        sa.Column("last_seen", sa.Date, nullable=False),
    )
    op.create_index(
        "ux_quarantine_record", "quarantine", ["source_table", "source_key"], unique=True
    )
    op.create_table(
        "extract_run",
        sa.Column("extract_run", sa.Text, primary_key=True),
        sa.Column("scheme", sa.Text, nullable=False),
        sa.Column("extracted_on", sa.Date, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("cases_extracted", sa.Integer, nullable=False),
        sa.Column("cases_clean", sa.Integer, nullable=False),
        sa.Column("cases_held", sa.Integer, nullable=False),
        sa.Column("records_quarantined", sa.Integer, nullable=False),
    )
    op.create_table(
        "legacy_case",
        sa.Column("case_ref", sa.Text, primary_key=True),
        sa.Column("scheme", sa.Text, nullable=False),
        sa.Column("legacy_case_id", sa.BigInteger, nullable=False),
        sa.Column("nrp_ref", sa.Text, nullable=False),
        sa.Column("pwc_ref", sa.Text, nullable=False),
        sa.Column("case_start_date", sa.Date, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("assessment_type", sa.Text, nullable=False),
        sa.Column("weekly_liability_pence", sa.BigInteger, nullable=False),
        sa.Column("payment_method", sa.Text, nullable=False),
        sa.Column("enforcement_action", sa.Text),
        sa.Column("clerical", sa.Boolean, nullable=False),
        sa.Column("dv_marker", sa.Boolean, nullable=False),
        sa.Column("recorded_total_pence", sa.BigInteger, nullable=False),
        sa.Column("recorded_sos_pence", sa.BigInteger, nullable=False),
        sa.Column("nrp_deceased", sa.Boolean, nullable=False),
        sa.Column("pwc_deceased", sa.Boolean, nullable=False),
        sa.Column("nrp_untraced", sa.Boolean, nullable=False),
        sa.Column("pwc_untraced", sa.Boolean, nullable=False),
        sa.Column("nrp_abroad", sa.Boolean, nullable=False),
        sa.Column("pwc_abroad", sa.Boolean, nullable=False),
        sa.Column("last_receipt_on", sa.Date),
        sa.Column("extracted_on", sa.Date, nullable=False),
        sa.Column("extract_run", sa.Text, nullable=False),
    )
    op.create_index("ix_legacy_case_nrp", "legacy_case", ["nrp_ref"])
    op.create_table(
        "held_case",
        sa.Column("case_ref", sa.Text, primary_key=True),
        sa.Column("scheme", sa.Text, nullable=False),
        sa.Column("extract_run", sa.Text, nullable=False),
        sa.Column("held_since", sa.Date, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("held_case")
    op.drop_index("ix_legacy_case_nrp", table_name="legacy_case")
    op.drop_table("legacy_case")
    op.drop_table("extract_run")
    op.drop_index("ux_quarantine_record", table_name="quarantine")
    op.drop_table("quarantine")
