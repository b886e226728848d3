"""sweep_runs.started_at → ran_at: when the run ran, beside as_of, the night it is about

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-10 09:00:00

`started_at` was written with the as-of instant, so it never said when a run ran
(issue 17). The column is renamed for its new meaning: new rows get the wall clock
at the run's start. Existing rows keep the value they have — the as-of instant,
the only time recorded for them.
"""
from alembic import op


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sweep_runs', schema=None) as batch_op:
        batch_op.alter_column('started_at', new_column_name='ran_at')


def downgrade() -> None:
    with op.batch_alter_table('sweep_runs', schema=None) as batch_op:
        batch_op.alter_column('ran_at', new_column_name='started_at')
