"""escalation ladder, notices, outbox

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 10:08:10.190365
"""
from alembic import op
import sqlalchemy as sa

from models.types import UTCDateTime


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    
    op.create_table('doc_counters',
    sa.Column('issuer', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('issuer', 'year')
    )
    op.create_table('escalation_cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=30), nullable=False),
    sa.Column('cause', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('open_key', sa.String(length=160), nullable=True),
    sa.Column('stage_key', sa.String(length=64), nullable=True),
    sa.Column('clue_id', sa.Integer(), nullable=True),
    sa.Column('parent_id', sa.Integer(), nullable=True),
    sa.Column('automatic', sa.Boolean(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('required_action', sa.Text(), nullable=True),
    sa.Column('proposed_by', sa.String(length=64), nullable=False),
    sa.Column('proposed_at', UTCDateTime(), nullable=False),
    sa.Column('issued_by', sa.String(length=64), nullable=True),
    sa.Column('issued_at', UTCDateTime(), nullable=True),
    sa.Column('response_due_at', UTCDateTime(), nullable=True),
    sa.Column('chased_at', UTCDateTime(), nullable=True),
    sa.Column('chase_due_at', UTCDateTime(), nullable=True),
    sa.Column('responded_at', UTCDateTime(), nullable=True),
    sa.Column('response', sa.Text(), nullable=True),
    sa.Column('response_attachment', sa.String(length=500), nullable=True),
    sa.Column('interview_at', UTCDateTime(), nullable=True),
    sa.Column('interview_minutes', sa.Text(), nullable=True),
    sa.Column('decision', sa.String(length=20), nullable=True),
    sa.Column('decision_text', sa.Text(), nullable=True),
    sa.Column('exemption_grounds', sa.Text(), nullable=True),
    sa.Column('receiving_organ', sa.String(length=200), nullable=True),
    sa.Column('follow_up', sa.Text(), nullable=True),
    sa.Column('resolved_at', UTCDateTime(), nullable=True),
    sa.Column('resolved_by', sa.String(length=64), nullable=True),
    sa.Column('resolution_note', sa.Text(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clue_id'], ['clues.id'], ),
    sa.ForeignKeyConstraint(['parent_id'], ['escalation_cases.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'key'),
    sa.UniqueConstraint('campaign_id', 'open_key')
    )
    with op.batch_alter_table('escalation_cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_due', ['campaign_id', 'state', 'response_due_at'], unique=False)
        batch_op.create_index('ix_cases_unit', ['unit_id', 'state'], unique=False)

    op.create_table('case_lapses',
    sa.Column('lapse_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['escalation_cases.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['lapse_id'], ['lapses.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('lapse_id')
    )
    with op.batch_alter_table('case_lapses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_lapses_case_id'), ['case_id'], unique=False)

    op.create_table('notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('issuer', sa.String(length=100), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('doc_number', sa.String(length=100), nullable=False),
    sa.Column('addressee_unit_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('html', sa.Text(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['addressee_unit_id'], ['units.id'], ),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['escalation_cases.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'key'),
    sa.UniqueConstraint('issuer', 'year', 'seq')
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_case', ['case_id'], unique=False)

    op.create_table('outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=True),
    sa.Column('channel', sa.String(length=20), nullable=False),
    sa.Column('recipient', sa.String(length=500), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body_text', sa.Text(), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=True),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', UTCDateTime(), nullable=False),
    sa.Column('claimed_by', sa.String(length=100), nullable=True),
    sa.Column('claimed_until', UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', UTCDateTime(), nullable=False),
    sa.Column('sent_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['notice_id'], ['notices.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.create_index('ix_outbox_due', ['state', 'next_attempt_at'], unique=False)

    with op.batch_alter_table('clues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reject_count', sa.Integer(), server_default='0', nullable=False))




def downgrade() -> None:
    
    with op.batch_alter_table('clues', schema=None) as batch_op:
        batch_op.drop_column('reject_count')

    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_due')

    op.drop_table('outbox')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index('ix_notices_case')

    op.drop_table('notices')
    with op.batch_alter_table('case_lapses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_lapses_case_id'))

    op.drop_table('case_lapses')
    with op.batch_alter_table('escalation_cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_unit')
        batch_op.drop_index('ix_cases_due')

    op.drop_table('escalation_cases')
    op.drop_table('doc_counters')

