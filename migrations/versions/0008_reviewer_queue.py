"""an index of each reviewer's current assignments, for the reviewer's workspace queue

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 10:00:00.000000

The queue (`grievance.services.workspace.reviewer_queue`) starts from the reviewer's
active assignments and joins their cases by primary key. The partial index on
(reviewer_id, case_id) WHERE ended_at IS NULL holds exactly those rows, so the lookup
never wades through the reviewer's ended assignments (which only grow; the older index on
reviewer_id alone holds them all). The order (rank, due time, id) is then sorted over the
reviewer's few current cases: it cannot come from an index, the filter and the sort keys
being in two tables. Plans seen: SQLite "SEARCH assignment USING INDEX
ix_assignment_active_reviewer (reviewer_id=?)", then the case by its primary key, then a
temporary B-tree for the ORDER BY; PostgreSQL the same shape (index scan, nested loop on
pk_case, sort).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.create_index(
            'ix_assignment_active_reviewer',
            ['reviewer_id', 'case_id'],
            unique=False,
            sqlite_where=sa.text('ended_at IS NULL'),
            postgresql_where=sa.text('ended_at IS NULL'),
        )


def downgrade():
    with op.batch_alter_table('assignment', schema=None) as batch_op:
        batch_op.drop_index(
            'ix_assignment_active_reviewer',
            sqlite_where=sa.text('ended_at IS NULL'),
            postgresql_where=sa.text('ended_at IS NULL'),
        )
