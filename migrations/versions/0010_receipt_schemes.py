"""receipt codes hashed by versioned schemes, one for the deployment, with a pepper

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 19:26:39.157464

`receipt_scheme`: each version of how receipt codes are hashed (Argon2id cost and salt,
and the version of the key ring's receipt-code key, the pepper: HMAC-SHA256 before
Argon2id); `complainant.receipt_scheme_version` records the version each code was
hashed with. One scheme serves every mechanism, so `mechanism.receipt_salt` goes: a
code is hashed once per attempt, not once per mechanism. The first version is made by
the first filing after this revision (it needs the settings' cost and the key ring,
which a migration does not have).

Codes issued before this revision were hashed without a pepper, with their mechanism's
salt and the cost of the moment, none of which a scheme can express without bringing
back one hash per mechanism for every attempt. They are left without a scheme (NULL):
no code opens them any more, and with the salts gone their hashes confirm nothing. No
real complaint was filed before this revision; the demo loader never showed the codes
it drew, and loads its cases with new codes on a new database.

Downgrading gives each mechanism a new random salt: codes issued since this revision do
not open under revision 0009 either.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('receipt_scheme',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('time_cost', sa.Integer(), nullable=False),
    sa.Column('memory_cost_kib', sa.Integer(), nullable=False),
    sa.Column('parallelism', sa.Integer(), nullable=False),
    sa.Column('salt', sa.LargeBinary(length=32), nullable=False),
    sa.Column('pepper_version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('version', name=op.f('pk_receipt_scheme')),
    sa.UniqueConstraint('time_cost', 'memory_cost_kib', 'parallelism', 'pepper_version', name=op.f('uq_receipt_scheme_parameters'))
    )
    with op.batch_alter_table('complainant', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_scheme_version', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_complainant_receipt_scheme_version'), ['receipt_scheme_version'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_complainant_receipt_scheme_version_receipt_scheme'), 'receipt_scheme', ['receipt_scheme_version'], ['version'])

    with op.batch_alter_table('mechanism', schema=None) as batch_op:
        batch_op.drop_column('receipt_salt')


def downgrade():
    with op.batch_alter_table('mechanism', schema=None) as batch_op:
        batch_op.add_column(sa.Column('receipt_salt', sa.LargeBinary(length=32), nullable=True))
    if op.get_bind().dialect.name == 'postgresql':
        random_salt = "decode(md5(random()::text || clock_timestamp()::text || id::text), 'hex')"
    else:
        random_salt = 'randomblob(16)'
    op.execute(f'UPDATE mechanism SET receipt_salt = {random_salt}')
    with op.batch_alter_table('mechanism', schema=None) as batch_op:
        batch_op.alter_column('receipt_salt', existing_type=sa.LargeBinary(length=32), nullable=False)

    with op.batch_alter_table('complainant', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_complainant_receipt_scheme_version_receipt_scheme'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_complainant_receipt_scheme_version'))
        batch_op.drop_column('receipt_scheme_version')

    op.drop_table('receipt_scheme')
