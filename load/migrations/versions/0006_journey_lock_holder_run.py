"""The flow run that holds the journey lock (and the dispatch's, in a row of its own), so the
next holder can show it crashed on the dashboard if its process died holding it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journey_lease") as batch_op:
        batch_op.add_column(sa.Column("run_id", sa.Text(), nullable=True))
    op.execute("INSERT INTO journey_lease (lease_id, token) VALUES (2, 0)")


def downgrade() -> None:
    op.execute("DELETE FROM journey_lease WHERE lease_id = 2")
    with op.batch_alter_table("journey_lease") as batch_op:
        batch_op.drop_column("run_id")
