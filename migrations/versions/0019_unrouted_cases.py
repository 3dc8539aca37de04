"""cases no reviewer can take: since when a role stays empty, and why

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-08 00:00:00.000000

`case.unrouted_since` and `case.unrouted_reason`: kept by routing when a lead or second
role stays empty (every reviewer full, in conflict, unavailable or gone from the case),
cleared once both roles are filled; the secretariat's page of unrouted cases reads them.
Existing cases start with none: the next routing of a case (any change of a reviewer's
capacity, availability or conflicts routes the waiting cases again) records it.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unrouted_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("unrouted_reason", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_case_unrouted_since"), ["unrouted_since"], unique=False)


def downgrade():
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_unrouted_since"))
        batch_op.drop_column("unrouted_reason")
        batch_op.drop_column("unrouted_since")
