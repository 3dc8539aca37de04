"""translations of a decision's reasons, for the complainant

Revision ID: 0024
Revises: 0020
Create Date: 2026-12-08 00:50:00.000000

`translation.event_seq`: a reviewer's translation of the reasons given in one case-log
event (its `seq` in the case's chain), kept sealed beside the statement's and messages'
translations (#15, item 4). Empty for every earlier translation (of the statement or of a
message); downgrading deletes the reasons' translations (which would otherwise read as
translations of the statement) and drops the column.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0024"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.add_column(sa.Column("event_seq", sa.Integer(), nullable=True))


def downgrade():
    op.execute("DELETE FROM translation WHERE event_seq IS NOT NULL")
    with op.batch_alter_table("translation", schema=None) as batch_op:
        batch_op.drop_column("event_seq")
