"""satisfaction questions put to complainants after closing, once each

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 20:06:44.245373

`satisfaction_question` is unique per (deadline, complainant): two workers at once ask
once. The index on deadline (code, state, remind_at) lets the job seek to its checks.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('satisfaction_question',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('complainant_id', sa.Integer(), nullable=False),
    sa.Column('deadline_id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('asked_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('answered_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_satisfaction_question_case_id_case')),
    sa.ForeignKeyConstraint(['complainant_id'], ['complainant.id'], name=op.f('fk_satisfaction_question_complainant_id_complainant')),
    sa.ForeignKeyConstraint(['deadline_id'], ['deadline.id'], name=op.f('fk_satisfaction_question_deadline_id_deadline')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_satisfaction_question')),
    sa.UniqueConstraint('deadline_id', 'complainant_id', name=op.f('uq_satisfaction_question_deadline_id_complainant_id'))
    )
    with op.batch_alter_table('satisfaction_question', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_satisfaction_question_case_id'), ['case_id'], unique=False)

    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.create_index('ix_deadline_code_state_remind_at', ['code', 'state', 'remind_at'], unique=False)



def downgrade():
    with op.batch_alter_table('deadline', schema=None) as batch_op:
        batch_op.drop_index('ix_deadline_code_state_remind_at')

    with op.batch_alter_table('satisfaction_question', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_satisfaction_question_case_id'))

    op.drop_table('satisfaction_question')
