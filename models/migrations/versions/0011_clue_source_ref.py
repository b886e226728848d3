"""clues.source_ref: the work order's number (工单号) a clue was imported from

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 09:00:00

Unique per campaign, so importing the same CSV again adds nothing twice; clues
entered by hand have none (NULLs never collide, on SQLite as on PostgreSQL).
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # a column and a unique index: SQLite adds both in place (a constraint would copy the
    # table, and dropping the old one would run its foreign keys' ON DELETE CASCADE)
    op.add_column('clues', sa.Column('source_ref', sa.String(length=100), nullable=True))
    op.create_index('uq_clues_source_ref', 'clues', ['campaign_id', 'source_ref'], unique=True)


def downgrade() -> None:
    op.drop_index('uq_clues_source_ref', table_name='clues')
    with op.batch_alter_table('clues', schema=None) as batch_op:
        batch_op.drop_column('source_ref')
