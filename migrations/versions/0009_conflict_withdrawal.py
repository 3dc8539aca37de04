"""a withdrawn conflict of interest keeps the reason it was withdrawn

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 12:00:00.000000

`conflict.withdrawal_reason`: the reviewer's reason, kept with `withdrawn_on`. The record
stays: a withdrawn conflict is never deleted. A conflict withdrawn before this revision
(none through the application: nothing withdrew one) gets a reason saying so, and the
CHECK constraint makes every later withdrawal carry its reason.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawal_reason', sa.Text(), nullable=True))
    op.execute(
        "UPDATE conflict SET withdrawal_reason = '(withdrawn before reasons were recorded)'"
        " WHERE withdrawn_on IS NOT NULL"
    )
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_conflict_withdrawal_reason'),
            'withdrawn_on IS NULL OR withdrawal_reason IS NOT NULL',
        )


def downgrade():
    with op.batch_alter_table('conflict', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_conflict_withdrawal_reason'), type_='check')
        batch_op.drop_column('withdrawal_reason')
