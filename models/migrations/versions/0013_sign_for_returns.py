"""签收 and 退单/改派: clues' assignment and signing columns, clue_returns

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-09 09:00:00

An item assigned to a unit is signed for by it (statemachine/charts/signing.py); a unit
returns an item that is not its own and the level above reassigns it or refuses the return
(statemachine/charts/returns.py). Items that exist already were worked before signing was
asked for: they stand signed, owe no signing (sign_due_at NULL), and were assigned when
they were received.
"""
from alembic import op
import sqlalchemy as sa
from models.types import UTCDateTime


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # columns added in place (a batch would copy clues and run its foreign keys' cascades)
    op.add_column('clues', sa.Column('assigned_at', UTCDateTime(), nullable=True))
    op.add_column('clues', sa.Column('sign_due_at', UTCDateTime(), nullable=True))
    op.add_column('clues', sa.Column('signing', sa.String(length=12), server_default='signed', nullable=False))
    op.add_column('clues', sa.Column('signed_at', UTCDateTime(), nullable=True))
    op.add_column('clues', sa.Column('signed_by', sa.String(length=64), nullable=True))
    op.add_column('clues', sa.Column('assign_count', sa.Integer(), server_default='0', nullable=False))
    op.execute("UPDATE clues SET assigned_at = received_at")
    op.create_table('clue_returns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('clue_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.String(length=12), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_by', sa.String(length=64), nullable=False),
    sa.Column('requested_at', UTCDateTime(), nullable=False),
    sa.Column('to_unit_id', sa.Integer(), nullable=True),
    sa.Column('decision', sa.Text(), nullable=True),
    sa.Column('decided_at', UTCDateTime(), nullable=True),
    sa.Column('updated_at', UTCDateTime(), nullable=False),
    sa.Column('updated_by', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clue_id'], ['clues.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.ForeignKeyConstraint(['to_unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_clue_returns_clue', 'clue_returns', ['clue_id', 'state'], unique=False)
    op.create_index('ix_clue_returns_unit', 'clue_returns', ['unit_id', 'state'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_clue_returns_unit', table_name='clue_returns')
    op.drop_index('ix_clue_returns_clue', table_name='clue_returns')
    op.drop_table('clue_returns')
    with op.batch_alter_table('clues', schema=None) as batch_op:
        for column in ('assign_count', 'signed_by', 'signed_at', 'signing', 'sign_due_at', 'assigned_at'):
            batch_op.drop_column(column)
