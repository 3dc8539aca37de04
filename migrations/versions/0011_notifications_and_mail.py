"""notifications for named users, their e-mail choices, and the mail outbox

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 19:46:20.237480

`mail_outbox`: every e-mail, drained by the worker (a sealed address, emptied once
final; one digest a day per user by a constraint). `staff_notification` says whether it
is urgent, whether it waits for the day's digest, and which mails told of it; an index
serves the inbox (user, id) and a partial one the digest job. `user.email_mode` (at
once, a daily digest, urgent only) and `user.language` (of the e-mails) default to
what every user had before: at once, in English. `complainant.contact_failed_at`: the
e-mail address was refused for good. Notifications made before this revision are
neither urgent nor waiting for a digest: they were never mailed, and are not now.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mail_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('notification', 'digest', 'complainant', name='mailkind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('topic', sa.String(length=40), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('complainant_id', sa.Integer(), nullable=True),
    sa.Column('digest_day', sa.Date(), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=False),
    sa.Column('address_enc', sa.LargeBinary(), nullable=True),
    sa.Column('status', sa.Enum('pending', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled', name='outboxstatus', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_error', sa.String(length=32), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_mail_outbox_case_id_case')),
    sa.ForeignKeyConstraint(['complainant_id'], ['complainant.id'], name=op.f('fk_mail_outbox_complainant_id_complainant')),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], name=op.f('fk_mail_outbox_user_id_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mail_outbox')),
    sa.UniqueConstraint('user_id', 'digest_day', name=op.f('uq_mail_outbox_user_id_digest_day'))
    )
    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mail_outbox_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_mail_outbox_status_next_attempt_at', ['status', 'next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_mail_outbox_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('complainant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_failed_at', sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table('staff_notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('urgent', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('digest_pending', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('mail_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('digest_mail_id', sa.Integer(), nullable=True))
        batch_op.create_index('ix_staff_notification_digest_pending', ['user_id', 'created_at'], unique=False, sqlite_where=sa.text('digest_pending'), postgresql_where=sa.text('digest_pending'))
        batch_op.create_index('ix_staff_notification_user_id_id', ['user_id', 'id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_staff_notification_digest_mail_id_mail_outbox'), 'mail_outbox', ['digest_mail_id'], ['id'])
        batch_op.create_foreign_key(batch_op.f('fk_staff_notification_mail_id_mail_outbox'), 'mail_outbox', ['mail_id'], ['id'])

    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_mode', sa.Enum('immediate', 'digest', 'urgent_only', name='emailmode', native_enum=False, create_constraint=True, length=32), server_default='immediate', nullable=False))
        batch_op.add_column(sa.Column('language', sa.String(length=16), server_default='en', nullable=False))



def downgrade():
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_user_emailmode'), type_='check')
        batch_op.drop_column('language')
        batch_op.drop_column('email_mode')

    with op.batch_alter_table('staff_notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_staff_notification_mail_id_mail_outbox'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_staff_notification_digest_mail_id_mail_outbox'), type_='foreignkey')
        batch_op.drop_index('ix_staff_notification_user_id_id')
        batch_op.drop_index('ix_staff_notification_digest_pending', sqlite_where=sa.text('digest_pending'), postgresql_where=sa.text('digest_pending'))
        batch_op.drop_column('digest_mail_id')
        batch_op.drop_column('mail_id')
        batch_op.drop_column('digest_pending')
        batch_op.drop_column('urgent')

    with op.batch_alter_table('complainant', schema=None) as batch_op:
        batch_op.drop_column('contact_failed_at')

    with op.batch_alter_table('mail_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mail_outbox_user_id'))
        batch_op.drop_index('ix_mail_outbox_status_next_attempt_at')
        batch_op.drop_index(batch_op.f('ix_mail_outbox_case_id'))

    op.drop_table('mail_outbox')
