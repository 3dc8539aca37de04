"""partner applications of the JSON API: their keys (hashed), limits and audit trail

Revision ID: 0015
Revises: 0010
Create Date: 2026-12-09 10:00:00.000000

`api_client`: one partner application's key, made and revoked by an administrator: its
public key id, SHA-256 of the key (never the key), its limits (complaints an hour and a
day), who created and revoked it and when, when it was last used. `api_client_use`: the
audit trail, one row per request that named a client's key (when, the endpoint, the
outcome and status, the case it filed); never an address. Both tables are new: nothing
to carry over, and downgrading drops them.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_client",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("organisation", sa.String(length=200), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("complaints_per_hour", sa.Integer(), nullable=False),
        sa.Column("complaints_per_day", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "complaints_per_hour BETWEEN 1 AND 10000",
            name=op.f("ck_api_client_complaints_per_hour"),
        ),
        sa.CheckConstraint(
            "complaints_per_day BETWEEN complaints_per_hour AND 100000",
            name=op.f("ck_api_client_complaints_per_day"),
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by_id IS NULL)",
            name=op.f("ck_api_client_revoked_by_whom"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user.id"], name=op.f("fk_api_client_created_by_id_user")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["user.id"], name=op.f("fk_api_client_revoked_by_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client")),
        sa.UniqueConstraint("key_id", name=op.f("uq_api_client_key_id")),
    )
    op.create_table(
        "api_client_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("endpoint", sa.String(length=40), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "accepted",
                "refused",
                "rate_limited",
                "revoked_key",
                "wrong_key",
                "failed",
                name="apiuseoutcome",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("status", sa.SmallInteger(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_api_client_use_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["client_id"], ["api_client.id"], name=op.f("fk_api_client_use_client_id_api_client")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_client_use")),
    )
    with op.batch_alter_table("api_client_use", schema=None) as batch_op:
        batch_op.create_index(
            "ix_api_client_use_client_id_at", ["client_id", "at", "id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_api_client_use_case_id"), ["case_id"], unique=False)


def downgrade():
    with op.batch_alter_table("api_client_use", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_client_use_case_id"))
        batch_op.drop_index("ix_api_client_use_client_id_at")

    op.drop_table("api_client_use")
    op.drop_table("api_client")
