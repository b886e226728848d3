"""campaign_schedulers: which scheduling method owns a campaign's schedule

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 09:40:00

One row per campaign naming the method (embedded APScheduler, `serve` in Prefect
mode, workers of `rectify deploy`) that registered its jobs: every method reads
the database, so each refuses a campaign another one owns (issue 17).
"""
from alembic import op
import sqlalchemy as sa
from models.types import UTCDateTime


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaign_schedulers',
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=16), nullable=False),
    sa.Column('detail', sa.String(length=200), nullable=False),
    sa.Column('since', UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('campaign_id')
    )


def downgrade() -> None:
    op.drop_table('campaign_schedulers')
