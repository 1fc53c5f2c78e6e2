"""The journey's fencing token, case versions, print batches claimed before they are written,
and letters kept as data.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journey_lease",
        sa.Column("lease_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.Column("holder", sa.Text(), nullable=True),
        sa.Column("acquired_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("lease_id"),
    )
    op.execute("INSERT INTO journey_lease (lease_id, token) VALUES (1, 0)")
    op.create_table(
        "print_batch",
        sa.Column("print_batch", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("dispatched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("letters", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("print_batch"),
    )
    with op.batch_alter_table("case_journey") as batch_op:
        batch_op.add_column(sa.Column("version", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("letter") as batch_op:
        # letters written before keep their text in ``body``: version 0 prints it as it is
        batch_op.add_column(sa.Column("template_version", sa.Integer(), nullable=False, server_default="0"))
        batch_op.add_column(sa.Column("rendered_sha256", sa.Text(), nullable=True))
        batch_op.create_index("ix_letter_print_batch", ["print_batch"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("letter") as batch_op:
        batch_op.drop_index("ix_letter_print_batch")
        batch_op.drop_column("rendered_sha256")
        batch_op.drop_column("template_version")
    with op.batch_alter_table("case_journey") as batch_op:
        batch_op.drop_column("version")
    op.drop_table("print_batch")
    op.drop_table("journey_lease")
