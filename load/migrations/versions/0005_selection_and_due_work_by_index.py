"""Selection and due work found by index: each snapshot case's segment and selection date, the
liability end date beside the journey's flags, a started flag per batch, partial indexes.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UNSELECTED = sa.text("selected_on IS NULL")
REMINDERS = sa.text("NOT reminded AND NOT liability_ended AND reminder_on IS NOT NULL")
LIABILITY_ENDS = sa.text("NOT liability_ended AND liability_end_date IS NOT NULL")
DEADLINES = sa.text("journey_state = 'AWAITING_CHOICE'")
WAITING = sa.text("status = 'ACCEPTED'")


def upgrade() -> None:
    with op.batch_alter_table("legacy_case") as batch_op:
        batch_op.add_column(sa.Column("segment", sa.SmallInteger(), nullable=True))
        batch_op.add_column(sa.Column("selected_on", sa.Date(), nullable=True))
    with op.batch_alter_table("extract_run") as batch_op:
        # an extract without it recorded its snapshot before segments were kept: the next
        # plan or advance extracts again
        batch_op.add_column(sa.Column("segment_rules", sa.Text(), nullable=True))
    with op.batch_alter_table("case_journey") as batch_op:
        batch_op.add_column(sa.Column("liability_end_date", sa.Date(), nullable=True))
    with op.batch_alter_table("batch") as batch_op:
        batch_op.add_column(sa.Column("started", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE legacy_case SET selected_on = "
        "(SELECT s.selected_on FROM selection s WHERE s.csa_case_ref = legacy_case.case_ref)"
    )
    op.execute(
        "UPDATE case_journey SET liability_end_date = "
        "(SELECT o.liability_end_date FROM closure_outcome o WHERE o.csa_case_ref = case_journey.csa_case_ref)"
    )
    op.execute(
        "UPDATE batch SET started = TRUE WHERE EXISTS "
        "(SELECT 1 FROM closure_outcome o WHERE o.batch_id = batch.batch_id)"
    )
    op.create_index("ix_legacy_case_unselected", "legacy_case", ["segment", "case_start_date", "case_ref"],
                    postgresql_where=UNSELECTED, sqlite_where=UNSELECTED)
    op.create_index("ix_case_journey_reminders", "case_journey", ["reminder_on"],
                    postgresql_where=REMINDERS, sqlite_where=REMINDERS)
    op.create_index("ix_case_journey_liability_ends", "case_journey", ["liability_end_date"],
                    postgresql_where=LIABILITY_ENDS, sqlite_where=LIABILITY_ENDS)
    op.create_index("ix_closure_outcome_tranche", "closure_outcome", ["tranche_id"])
    op.create_index("ix_closure_outcome_deadlines", "closure_outcome", ["choice_deadline"],
                    postgresql_where=DEADLINES, sqlite_where=DEADLINES)
    op.create_index("ix_operator_event_waiting", "operator_event", ["received_on"],
                    postgresql_where=WAITING, sqlite_where=WAITING)


def downgrade() -> None:
    for name, table in (
        ("ix_operator_event_waiting", "operator_event"),
        ("ix_closure_outcome_deadlines", "closure_outcome"),
        ("ix_closure_outcome_tranche", "closure_outcome"),
        ("ix_case_journey_liability_ends", "case_journey"),
        ("ix_case_journey_reminders", "case_journey"),
        ("ix_legacy_case_unselected", "legacy_case"),
    ):
        op.drop_index(name, table_name=table)
    with op.batch_alter_table("batch") as batch_op:
        batch_op.drop_column("started")
    with op.batch_alter_table("case_journey") as batch_op:
        batch_op.drop_column("liability_end_date")
    with op.batch_alter_table("extract_run") as batch_op:
        batch_op.drop_column("segment_rules")
    with op.batch_alter_table("legacy_case") as batch_op:
        batch_op.drop_column("selected_on")
        batch_op.drop_column("segment")
