"""a campaign's notice template overrides, stored at load

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 10:00:00

Overrides were read from a `notices/` folder beside the plan file, resolved
against the working directory of whichever command issued a notice; they
are now read once, at load, and kept with the campaign. Campaigns loaded
before this keep the shipped templates (an empty set of overrides).
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notice_templates_json', sa.Text(), nullable=False, server_default='{}'))


def downgrade() -> None:
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_column('notice_templates_json')
