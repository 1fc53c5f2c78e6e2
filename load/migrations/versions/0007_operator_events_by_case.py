"""Operators' events found by their case: recording an event looks for the same event recorded
before, among the events of its case.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_operator_event_case", "operator_event", ["csa_case_ref"])


def downgrade() -> None:
    op.drop_index("ix_operator_event_case", table_name="operator_event")
