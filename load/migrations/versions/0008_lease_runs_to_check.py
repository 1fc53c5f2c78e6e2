"""The runs a lock's holders have not yet seen ended: a run killed before it showed its
predecessor crashed on the dashboard passes that run on to the next holder.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journey_lease") as batch_op:
        batch_op.add_column(sa.Column("runs_to_check", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journey_lease") as batch_op:
        batch_op.drop_column("runs_to_check")
