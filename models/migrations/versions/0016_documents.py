"""documents: reports kept in the database, not on the disk of whichever host made them

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-10 09:30:00

A worker on one host wrote a report to its own disk, where neither the other hosts
nor the web app could read it (issue 17). The database is the one store they all
share already: each format of a report is a row here, written with the report's
record. Reports recorded before keep their paths in generated_reports.files_json
and are still read from there while the files exist.
"""
from alembic import op
import sqlalchemy as sa
from models.types import UTCDateTime


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('documents',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=300), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('stored_at', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'name')
    )


def downgrade() -> None:
    op.drop_table('documents')
