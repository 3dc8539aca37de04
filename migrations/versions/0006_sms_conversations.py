"""SMS and WhatsApp: conversations, inbound messages, opt-outs; the outbox addresses

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 19:40:40.513237

`inbound_sms.provider_sid` is unique: a webhook Twilio retries records nothing twice.
Outbox rows gain the recipient's sealed address and number HMAC, the conversation they
answer, the opt-out exemption and the measured encoding and segments.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('inbound_sms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('provider_sid', sa.String(length=64), nullable=False),
    sa.Column('handle', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.Enum('web', 'sms', 'whatsapp', 'voice', 'phone', 'letter', 'in_person', 'email', 'api', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('address_enc', sa.LargeBinary(), nullable=False),
    sa.Column('body_enc', sa.LargeBinary(), nullable=False),
    sa.Column('to_number', sa.String(length=40), nullable=False),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('processed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_sms')),
    sa.UniqueConstraint('provider_sid', name=op.f('uq_inbound_sms_provider_sid'))
    )
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inbound_sms_handle'), ['handle'], unique=False)
        batch_op.create_index('ix_inbound_sms_pending', ['processed_at', 'id'], unique=False)

    op.create_table('sms_opt_out',
    sa.Column('handle', sa.String(length=64), nullable=False),
    sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('handle', name=op.f('pk_sms_opt_out'))
    )
    op.create_table('sms_conversation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('handle', sa.String(length=64), nullable=False),
    sa.Column('channel', sa.Enum('web', 'sms', 'whatsapp', 'voice', 'phone', 'letter', 'in_person', 'email', 'api', name='channel', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('mechanism_id', sa.Integer(), nullable=False),
    sa.Column('address_enc', sa.LargeBinary(), nullable=False),
    sa.Column('state_enc', sa.LargeBinary(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('complainant_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('code_attempts', sa.Integer(), nullable=False),
    sa.Column('code_window_started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_sms_conversation_case_id_case')),
    sa.ForeignKeyConstraint(['complainant_id'], ['complainant.id'], name=op.f('fk_sms_conversation_complainant_id_complainant')),
    sa.ForeignKeyConstraint(['mechanism_id'], ['mechanism.id'], name=op.f('fk_sms_conversation_mechanism_id_mechanism')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sms_conversation')),
    sa.UniqueConstraint('handle', name=op.f('uq_sms_conversation_handle'))
    )
    with op.batch_alter_table('sms_conversation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sms_conversation_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sms_conversation_due_at'), ['due_at'], unique=False)

    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('handle', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('address_enc', sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column('despite_opt_out', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('encoding', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('segments', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_outbound_message_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_outbound_message_handle'), ['handle'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbound_message_conversation_id_sms_conversation'), 'sms_conversation', ['conversation_id'], ['id'], ondelete='SET NULL')



def downgrade():
    with op.batch_alter_table('outbound_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbound_message_conversation_id_sms_conversation'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_outbound_message_handle'))
        batch_op.drop_index(batch_op.f('ix_outbound_message_conversation_id'))
        batch_op.drop_column('segments')
        batch_op.drop_column('encoding')
        batch_op.drop_column('despite_opt_out')
        batch_op.drop_column('address_enc')
        batch_op.drop_column('handle')
        batch_op.drop_column('conversation_id')

    with op.batch_alter_table('sms_conversation', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sms_conversation_due_at'))
        batch_op.drop_index(batch_op.f('ix_sms_conversation_case_id'))

    op.drop_table('sms_conversation')
    op.drop_table('sms_opt_out')
    with op.batch_alter_table('inbound_sms', schema=None) as batch_op:
        batch_op.drop_index('ix_inbound_sms_pending')
        batch_op.drop_index(batch_op.f('ix_inbound_sms_handle'))

    op.drop_table('inbound_sms')
