"""CSA unpaid maintenance is a positive amount: the CHECK that 0002 left out.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-05
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CONSTRAINT = "ck_cms_unpaid_maintenance_amount_positive"


def upgrade() -> None:
    # On SQLite the batch recreates the table with the constraint (it has no ADD CONSTRAINT).
    with op.batch_alter_table("cms_unpaid_maintenance") as batch_op:
        batch_op.create_check_constraint(CONSTRAINT, "amount_pence > 0")


def downgrade() -> None:
    with op.batch_alter_table("cms_unpaid_maintenance") as batch_op:
        batch_op.drop_constraint(CONSTRAINT, type_="check")
