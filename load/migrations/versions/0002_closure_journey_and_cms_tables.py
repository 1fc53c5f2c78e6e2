"""The closure journey and the CMS: contract tables and the journey's control tables.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('selection',
    sa.Column('csa_case_ref', sa.Text(), nullable=False),
    sa.Column('tranche_id', sa.Text(), nullable=False),
    sa.Column('batch_id', sa.Text(), nullable=False),
    sa.Column('segment', sa.Integer(), nullable=False),
    sa.Column('selected_on', sa.Date(), nullable=False),
    sa.Column('liability_end_date', sa.Date(), nullable=True),
    sa.PrimaryKeyConstraint('csa_case_ref')
    )
    with op.batch_alter_table('selection', schema=None) as batch_op:
        batch_op.create_index('ix_selection_batch', ['batch_id'], unique=False)

    op.create_table('batch',
    sa.Column('batch_id', sa.Text(), nullable=False),
    sa.Column('tranche_id', sa.Text(), nullable=False),
    sa.Column('case_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('batch_id')
    )
    op.create_table('batch_run',
    sa.Column('batch_id', sa.Text(), nullable=False),
    sa.Column('step', sa.Text(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('run_id', sa.Text(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('batch_id', 'step', 'due_on')
    )
    op.create_table('case_journey',
    sa.Column('csa_case_ref', sa.Text(), nullable=False),
    sa.Column('reminder_on', sa.Date(), nullable=True),
    sa.Column('reminded', sa.Boolean(), nullable=False),
    sa.Column('liability_ended', sa.Boolean(), nullable=False),
    sa.Column('ledger_pwc_pence', sa.BigInteger(), nullable=True),
    sa.Column('ledger_sos_pence', sa.BigInteger(), nullable=True),
    sa.Column('resolved_on', sa.Date(), nullable=True),
    sa.Column('adjust_pwc_pence', sa.BigInteger(), nullable=True),
    sa.Column('adjust_sos_pence', sa.BigInteger(), nullable=True),
    sa.Column('pwc_accrued_from', sa.Date(), nullable=True),
    sa.Column('pwc_accrued_to', sa.Date(), nullable=True),
    sa.Column('extended', sa.Boolean(), nullable=False),
    sa.Column('application_service', sa.Text(), nullable=True),
    sa.Column('application_received_on', sa.Date(), nullable=True),
    sa.Column('choice_received_on', sa.Date(), nullable=True),
    sa.Column('choice_channel', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('csa_case_ref')
    )
    op.create_table('closure_outcome',
    sa.Column('csa_case_ref', sa.Text(), nullable=False),
    sa.Column('scheme', sa.Text(), nullable=False),
    sa.Column('segment', sa.Integer(), nullable=False),
    sa.Column('tranche_id', sa.Text(), nullable=False),
    sa.Column('batch_id', sa.Text(), nullable=False),
    sa.Column('journey_state', sa.Text(), nullable=False),
    sa.Column('selected_on', sa.Date(), nullable=False),
    sa.Column('liability_end_date', sa.Date(), nullable=True),
    sa.Column('arrears_pwc_pence', sa.BigInteger(), nullable=True),
    sa.Column('arrears_sos_pence', sa.BigInteger(), nullable=True),
    sa.Column('hold_reason', sa.Text(), nullable=True),
    sa.Column('transferred_pence', sa.BigInteger(), nullable=False),
    sa.Column('written_off_pence', sa.BigInteger(), nullable=False),
    sa.Column('pending_pence', sa.BigInteger(), nullable=False),
    sa.Column('on_hold_pence', sa.BigInteger(), nullable=False),
    sa.Column('choice', sa.Text(), nullable=True),
    sa.Column('choice_deadline', sa.Date(), nullable=True),
    sa.Column('cms_case_id', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('csa_case_ref')
    )
    with op.batch_alter_table('closure_outcome', schema=None) as batch_op:
        batch_op.create_index('ix_closure_outcome_batch', ['batch_id'], unique=False)
        batch_op.create_index('ix_closure_outcome_state', ['journey_state'], unique=False)

    op.create_table('cms_case',
    sa.Column('cms_case_id', sa.Integer(), nullable=False),
    sa.Column('csa_case_ref', sa.Text(), nullable=False),
    sa.Column('origin_scheme', sa.Text(), nullable=False),
    sa.Column('paying_parent_ref', sa.Text(), nullable=False),
    sa.Column('receiving_parent_ref', sa.Text(), nullable=False),
    sa.Column('service_type', sa.Text(), nullable=False),
    sa.Column('opened_on', sa.Date(), nullable=False),
    sa.Column('tranche_id', sa.Text(), nullable=False),
    sa.Column('batch_id', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('cms_case_id'),
    sa.UniqueConstraint('csa_case_ref')
    )
    op.create_table('engine_run',
    sa.Column('run_id', sa.Text(), nullable=False),
    sa.Column('command', sa.Text(), nullable=False),
    sa.Column('as_of', sa.Date(), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.Text(), nullable=False),
    sa.Column('rule_settings', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('run_id')
    )
    op.create_table('journey_clock',
    sa.Column('clock_id', sa.Integer(), nullable=False),
    sa.Column('advanced_to', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('clock_id')
    )
    op.create_table('journey_event',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('csa_case_ref', sa.Text(), nullable=False),
    sa.Column('from_state', sa.Text(), nullable=True),
    sa.Column('to_state', sa.Text(), nullable=False),
    sa.Column('effective_date', sa.Date(), nullable=False),
    sa.Column('cause', sa.Text(), nullable=False),
    sa.Column('run_id', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('journey_event', schema=None) as batch_op:
        batch_op.create_index('ix_journey_event_case', ['csa_case_ref'], unique=False)

    op.create_table('letter',
    sa.Column('letter_id', sa.Integer(), nullable=False),
    sa.Column('csa_case_ref', sa.Text(), nullable=False),
    sa.Column('journey_event', sa.Text(), nullable=False),
    sa.Column('template', sa.Text(), nullable=False),
    sa.Column('recipient_role', sa.Text(), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('created_on', sa.Date(), nullable=False),
    sa.Column('print_batch', sa.Text(), nullable=True),
    sa.Column('body', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('letter_id'),
    sa.UniqueConstraint('csa_case_ref', 'journey_event', 'template', 'recipient_role')
    )
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.create_index('ix_letter_status', ['status'], unique=False)

    op.create_table('operator_event',
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('csa_case_ref', sa.Text(), nullable=True),
    sa.Column('nrp_ref', sa.Text(), nullable=True),
    sa.Column('pwc_ref', sa.Text(), nullable=True),
    sa.Column('value', sa.Text(), nullable=True),
    sa.Column('pwc_pence', sa.BigInteger(), nullable=True),
    sa.Column('sos_pence', sa.BigInteger(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('caseworker', sa.Text(), nullable=True),
    sa.Column('channel', sa.Text(), nullable=True),
    sa.Column('received_on', sa.Date(), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('status', sa.Text(), nullable=False),
    sa.Column('refusal', sa.Text(), nullable=True),
    sa.Column('applied_run', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('event_id')
    )
    with op.batch_alter_table('operator_event', schema=None) as batch_op:
        batch_op.create_index('ix_operator_event_status', ['status'], unique=False)

    op.create_table('tranche',
    sa.Column('tranche_id', sa.Text(), nullable=False),
    sa.Column('kind', sa.Text(), nullable=False),
    sa.Column('selection_date', sa.Date(), nullable=False),
    sa.Column('segment_group', sa.Text(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('planned_cases', sa.Integer(), nullable=False),
    sa.Column('selected_cases', sa.Integer(), nullable=True),
    sa.PrimaryKeyConstraint('tranche_id')
    )
    op.create_table('write_off',
    sa.Column('csa_case_ref', sa.Text(), nullable=False),
    sa.Column('creditor', sa.Text(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('csa_case_ref', 'creditor', 'reason')
    )
    op.create_table('cms_unpaid_maintenance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cms_case_id', sa.Integer(), nullable=False),
    sa.Column('creditor', sa.Text(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.Column('origin_scheme', sa.Text(), nullable=False),
    sa.Column('accrued_from', sa.Date(), nullable=False),
    sa.Column('accrued_to', sa.Date(), nullable=False),
    sa.Column('transferred_on', sa.Date(), nullable=False),
    sa.Column('batch_id', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['cms_case_id'], ['cms_case.cms_case_id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('cms_case_id', 'creditor')
    )
    op.create_table('cms_arrears_instalment',
    sa.Column('unpaid_maintenance_id', sa.Integer(), nullable=False),
    sa.Column('instalment_no', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('amount_pence', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['unpaid_maintenance_id'], ['cms_unpaid_maintenance.id'], ),
    sa.PrimaryKeyConstraint('unpaid_maintenance_id', 'instalment_no')
    )


def downgrade() -> None:
    op.drop_table('cms_arrears_instalment')
    op.drop_table('cms_unpaid_maintenance')
    op.drop_table('write_off')
    op.drop_table('tranche')
    with op.batch_alter_table('operator_event', schema=None) as batch_op:
        batch_op.drop_index('ix_operator_event_status')

    op.drop_table('operator_event')
    with op.batch_alter_table('letter', schema=None) as batch_op:
        batch_op.drop_index('ix_letter_status')

    op.drop_table('letter')
    with op.batch_alter_table('journey_event', schema=None) as batch_op:
        batch_op.drop_index('ix_journey_event_case')

    op.drop_table('journey_event')
    op.drop_table('journey_clock')
    op.drop_table('engine_run')
    op.drop_table('cms_case')
    with op.batch_alter_table('closure_outcome', schema=None) as batch_op:
        batch_op.drop_index('ix_closure_outcome_state')
        batch_op.drop_index('ix_closure_outcome_batch')

    op.drop_table('closure_outcome')
    op.drop_table('case_journey')
    op.drop_table('batch_run')
    op.drop_table('batch')
    with op.batch_alter_table('selection', schema=None) as batch_op:
        batch_op.drop_index('ix_selection_batch')

    op.drop_table('selection')
