"""filings already made, found again by their sender's key (a form or request sent twice)

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-08 00:00:00.000000

`filing_submission`: one row per filing made through the complaint form or the JSON API
with an idempotency key: the key's HMAC (never the key), an HMAC of what was filed, the
case, the receipt code sealed under a key derived from the sender's key and the key ring
(emptied after 15 minutes), and when. A new table: nothing to carry over; downgrading
drops it (a form sent again after that files again, as before).
`decision_proposal.reason_language`: the language a proposed decision's reasons are
written in ("" for the proposals made before: not known).
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0018"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "filing_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(length=32), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("receipt_enc", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_filing_submission_case_id_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_filing_submission")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_filing_submission_key_hash")),
    )
    with op.batch_alter_table("filing_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_filing_submission_case_id"), ["case_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_filing_submission_created_at"), ["created_at"], unique=False
        )


    # The language a decision's reasons are written in, shown with them (#15, item 4).
    with op.batch_alter_table("decision_proposal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reason_language", sa.String(length=16), server_default="", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("decision_proposal", schema=None) as batch_op:
        batch_op.drop_column("reason_language")
    with op.batch_alter_table("filing_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_filing_submission_created_at"))
        batch_op.drop_index(batch_op.f("ix_filing_submission_case_id"))
    op.drop_table("filing_submission")
