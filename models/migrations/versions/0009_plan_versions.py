"""plan versions: each plan a campaign ran under, with its 文号 and SHA-256

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-10 09:00:00

A plan revised mid-campaign (services/campaigns/revision.py) keeps the plans before
it; campaigns loaded earlier get their plan as version 1.
"""
import hashlib

from alembic import op
import sqlalchemy as sa
from models.types import UTCDateTime


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('plan_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('doc_number', sa.String(length=100), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('plan_json', sa.Text(), nullable=False),
    sa.Column('plan_file', sa.String(length=500), nullable=False),
    sa.Column('loaded_at', UTCDateTime(), nullable=False),
    sa.Column('loaded_by', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('campaign_id', 'version')
    )
    # loaded_at is copied as stored (UTCDateTime's own form on each database)
    op.execute("INSERT INTO plan_versions (campaign_id, version, doc_number, sha256, plan_json, plan_file, "
               "loaded_at, loaded_by) SELECT id, 1, doc_number, '', plan_json, plan_file, loaded_at, 'system' "
               "FROM campaigns")
    bind = op.get_bind()
    for cid, plan_json in bind.execute(sa.text("SELECT campaign_id, plan_json FROM plan_versions")).all():
        bind.execute(sa.text("UPDATE plan_versions SET sha256 = :h WHERE campaign_id = :c"),
                     dict(h=hashlib.sha256(plan_json.encode()).hexdigest(), c=cid))


def downgrade() -> None:
    op.drop_table('plan_versions')
