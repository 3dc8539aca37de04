"""the complainant's follow-up sessions, kept on the server

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-08 09:00:00.000000

`followup_session`: one row per sign-in to the follow-up pages with a receipt code. The
browser's cookie holds only a random token, the row its SHA-256 (`token_hash`), the
complainant, when it began, when it was last used, and when it was ended by hand
(sign-out). Sessions signed in before this revision lived in the cookie alone: they end
at once (their cookie names no token), and the complainant types the code again.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('followup_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('complainant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['complainant_id'], ['complainant.id'], name=op.f('fk_followup_session_complainant_id_complainant')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_followup_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_followup_session_token_hash'))
    )
    with op.batch_alter_table('followup_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_followup_session_complainant_id'), ['complainant_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_session_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_followup_session_last_seen_at'), ['last_seen_at'], unique=False)


def downgrade():
    with op.batch_alter_table('followup_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_followup_session_last_seen_at'))
        batch_op.drop_index(batch_op.f('ix_followup_session_created_at'))
        batch_op.drop_index(batch_op.f('ix_followup_session_complainant_id'))

    op.drop_table('followup_session')
