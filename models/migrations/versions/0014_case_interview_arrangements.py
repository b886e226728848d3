"""escalation_cases: the 约谈's time, place and attendees a supervisor gives on issuing it

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-30 09:45:00

NULL means the plan's `documents:` defaults apply (what every case had before).
"""
import sqlalchemy as sa
from alembic import op

from models.types import UTCDateTime

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('escalation_cases', sa.Column('interview_scheduled_at', UTCDateTime(), nullable=True))
    op.add_column('escalation_cases', sa.Column('interview_place', sa.String(length=200), nullable=True))
    op.add_column('escalation_cases', sa.Column('interview_attendees', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('escalation_cases', schema=None) as batch_op:
        batch_op.drop_column('interview_attendees')
        batch_op.drop_column('interview_place')
        batch_op.drop_column('interview_scheduled_at')
