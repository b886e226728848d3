"""延期 requests and 挂账 suspensions: extension_requests, clue_suspensions, clues.clock

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-08 09:00:00

A unit asks for an extension and the level above decides (statemachine/charts/extension.py);
a supervisor stops and starts an item's clock (statemachine/charts/clock.py). Every existing
clue's clock runs and has had no extension asked for through a request.
"""
from alembic import op
import sqlalchemy as sa
from models.types import UTCDateTime


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('clues', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clock', sa.String(length=12), server_default='running', nullable=False))
        batch_op.add_column(sa.Column('extension_count', sa.Integer(), server_default='0', nullable=False))
    op.create_table('extension_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('clue_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('asked', sa.Date(), nullable=False),
    sa.Column('previous', sa.Date(), nullable=False),
    sa.Column('granted', sa.Date(), nullable=True),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clue_id'], ['clues.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.create_index('ix_extension_requests_clue', ['clue_id', 'state'], unique=False)
    op.create_table('clue_suspensions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('clue_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('started_at', UTCDateTime(), nullable=False),
    sa.Column('started_by', sa.String(length=64), nullable=False),
    sa.Column('ended_at', UTCDateTime(), nullable=True),
    sa.Column('ended_by', sa.String(length=64), nullable=True),
    sa.Column('working_days', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clue_id'], ['clues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('clue_suspensions', schema=None) as batch_op:
        batch_op.create_index('ix_clue_suspensions_clue', ['clue_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('clue_suspensions', schema=None) as batch_op:
        batch_op.drop_index('ix_clue_suspensions_clue')
    op.drop_table('clue_suspensions')
    with op.batch_alter_table('extension_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_extension_requests_clue')
    op.drop_table('extension_requests')
    with op.batch_alter_table('clues', schema=None) as batch_op:
        batch_op.drop_column('extension_count')
        batch_op.drop_column('clock')
