"""clue_sources (every source of an item, 合并), clue_callbacks (回访), clues.merged_into_id/callback

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-09 09:00:00

Each existing clue's own source (channel, 工单号, reporter, receipt) becomes its one row in
clue_sources; the 工单号 is unique per (campaign, channel) there, so the per-campaign index on
clues.source_ref goes (clues.source_ref stays: the first source's number). Downgrading drops
the sources merged duplicates brought (the items they came from still hold them as their own)
and puts the per-campaign index back: where two channels' work orders shared a number, the
later clue's becomes '<channel>:<number>' (cut to the column), so none is lost.
"""
from alembic import op
import sqlalchemy as sa
from models.types import UTCDateTime


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('clue_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('clue_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=40), nullable=False),
    sa.Column('source_ref', sa.String(length=100), nullable=True),
    sa.Column('reporter_name', sa.String(length=100), nullable=True),
    sa.Column('reporter_phone', sa.String(length=50), nullable=True),
    sa.Column('received_at', UTCDateTime(), nullable=False),
    sa.Column('merged_from_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clue_id'], ['clues.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('uq_clue_sources_ref', 'clue_sources', ['campaign_id', 'channel', 'source_ref'], unique=True)
    op.create_index('ix_clue_sources_clue', 'clue_sources', ['clue_id'], unique=False)
    op.execute("INSERT INTO clue_sources (campaign_id, clue_id, channel, source_ref, reporter_name, "
               "reporter_phone, received_at) SELECT campaign_id, id, channel, source_ref, reporter_name, "
               "reporter_phone, received_at FROM clues ORDER BY id")
    op.drop_index('uq_clues_source_ref', table_name='clues')
    # plain columns: SQLite adds them in place (a table copy would run the foreign keys' cascades)
    op.add_column('clues', sa.Column('merged_into_id', sa.Integer(), nullable=True))
    op.add_column('clues', sa.Column('callback', sa.String(length=12), server_default='none', nullable=False))
    op.add_column('clues', sa.Column('callback_due_at', UTCDateTime(), nullable=True))
    op.create_table('clue_callbacks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('clue_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('owed_by_unit_id', sa.Integer(), nullable=False),
    sa.Column('result', sa.String(length=20), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('unit_at_fault', sa.Boolean(), nullable=False),
    sa.Column('at', UTCDateTime(), nullable=False),
    sa.Column('by', sa.String(length=64), nullable=False),
    sa.Column('due_at', UTCDateTime(), nullable=True),
    sa.Column('on_time', sa.Boolean(), nullable=False),
    sa.Column('redo', sa.Boolean(), nullable=False),
    sa.Column('redo_at', UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['clue_id'], ['clues.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owed_by_unit_id'], ['units.id'], ),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_clue_callbacks_clue', 'clue_callbacks', ['clue_id'], unique=False)
    op.create_index('ix_clue_callbacks_unit', 'clue_callbacks', ['campaign_id', 'unit_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_clue_callbacks_unit', table_name='clue_callbacks')
    op.drop_index('ix_clue_callbacks_clue', table_name='clue_callbacks')
    op.drop_table('clue_callbacks')
    # in place on SQLite too (3.35+): a batch copy of clues would drop the old table, and that
    # runs its children's ON DELETE CASCADE (延期 requests, 挂账 spells)
    for column in ('callback_due_at', 'callback', 'merged_into_id'):
        op.execute(f'ALTER TABLE clues DROP COLUMN {column}')
    # one number per campaign again: a later clue sharing a number with an earlier one (another
    # channel's work order) prefixes its channel
    op.execute("UPDATE clues SET source_ref = substr(channel || ':' || source_ref, 1, 100) "
               "WHERE source_ref IS NOT NULL AND EXISTS ("
               "SELECT 1 FROM clues AS earlier WHERE earlier.campaign_id = clues.campaign_id "
               "AND earlier.source_ref = clues.source_ref AND earlier.id < clues.id)")
    op.create_index('uq_clues_source_ref', 'clues', ['campaign_id', 'source_ref'], unique=True)
    op.drop_index('ix_clue_sources_clue', table_name='clue_sources')
    op.drop_index('uq_clue_sources_ref', table_name='clue_sources')
    op.drop_table('clue_sources')
