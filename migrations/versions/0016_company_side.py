"""the company side of a case: four-eyes involvement proposals, leverage, obligation reports

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:40:00.000000

`involvement_proposal`: a classification one reviewer proposed and a second confirms or
rejects (at most one pending per company and case). `involvement` gains the leverage the
company holds over the entity that causes the harm, the reclassification trigger and who
proposed it, and an index for a company's current cases. `obligation` gains the company's report (fulfilled or not, with reasons)
and who verified it; `attachment` the obligation a company's evidence file was given
with. Existing rows keep their values: leverage unknown (NULL), no
report. Downgrading drops the new table and columns.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_STATUS = ("open", "fulfilled", "not_fulfilled", "superseded")
_LEVERAGE = ("held", "lacking", "unknown")


def _enum(values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade():
    op.create_table(
        "involvement_proposal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(("cause", "contribute", "linked"), "involvementkind"), nullable=False),
        sa.Column("leverage", _enum(_LEVERAGE, "leverage"), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False),
        sa.Column("trigger", sa.String(length=60), nullable=True),
        sa.Column(
            "state",
            _enum(("pending", "confirmed", "rejected"), "involvementproposalstate"),
            nullable=False,
        ),
        sa.Column("proposed_by_id", sa.Integer(), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_involvement_proposal_case_id_case")),
        sa.ForeignKeyConstraint(["company_id"], ["company.id"], name=op.f("fk_involvement_proposal_company_id_company")),
        sa.ForeignKeyConstraint(["proposed_by_id"], ["user.id"], name=op.f("fk_involvement_proposal_proposed_by_id_user")),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"], name=op.f("fk_involvement_proposal_decided_by_id_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_involvement_proposal")),
    )
    with op.batch_alter_table("involvement_proposal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_involvement_proposal_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "uq_involvement_proposal_pending",
            ["case_id", "company_id"],
            unique=True,
            sqlite_where=sa.text("state = 'pending'"),
            postgresql_where=sa.text("state = 'pending'"),
        )
    with op.batch_alter_table("involvement", schema=None) as batch_op:
        batch_op.create_index(
            "ix_involvement_company_current",
            ["company_id", "case_id"],
            unique=False,
            sqlite_where=sa.text("superseded_at IS NULL"),
            postgresql_where=sa.text("superseded_at IS NULL"),
        )
        batch_op.add_column(sa.Column("leverage", _enum(_LEVERAGE, "leverage"), nullable=True))
        batch_op.add_column(sa.Column("trigger", sa.String(length=60), nullable=True))
        batch_op.add_column(sa.Column("proposed_by_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_involvement_proposed_by_id_user"), "user", ["proposed_by_id"], ["id"]
        )
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("reported_status", _enum(_STATUS, "reported_obligationstatus"), nullable=True)
        )
        batch_op.add_column(sa.Column("report", sa.Text(), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("reported_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("verified_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_obligation_reported_by_id_user"), "user", ["reported_by_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_obligation_verified_by_id_user"), "user", ["verified_by_id"], ["id"]
        )
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.alter_column("report", server_default=None)
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("obligation_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_attachment_obligation_id_obligation"), "obligation", ["obligation_id"], ["id"]
        )


def downgrade():
    with op.batch_alter_table("attachment", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_attachment_obligation_id_obligation"), type_="foreignkey")
        batch_op.drop_column("obligation_id")
    with op.batch_alter_table("obligation", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_obligation_verified_by_id_user"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("fk_obligation_reported_by_id_user"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("ck_obligation_reported_obligationstatus"), type_="check"
        )
        for column in ("verified_at", "verified_by_id", "reported_by_id", "reported_at", "report", "reported_status"):
            batch_op.drop_column(column)
    with op.batch_alter_table("involvement", schema=None) as batch_op:
        batch_op.drop_index("ix_involvement_company_current")
        batch_op.drop_constraint(batch_op.f("fk_involvement_proposed_by_id_user"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("ck_involvement_leverage"), type_="check")
        for column in ("proposed_by_id", "trigger", "leverage"):
            batch_op.drop_column(column)
    with op.batch_alter_table("involvement_proposal", schema=None) as batch_op:
        batch_op.drop_index("uq_involvement_proposal_pending")
        batch_op.drop_index(batch_op.f("ix_involvement_proposal_case_id"))
    op.drop_table("involvement_proposal")
