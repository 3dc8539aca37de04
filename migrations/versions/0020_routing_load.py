"""reviewers' loads kept as they change; queue keys on assignments; deadlines by mechanism

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-07 23:40:00.000000

`reviewer_load`: changes to each reviewer's load (open assignments on cases that have not
ended), +1 or -1 a row, written beside each change and folded by the worker; routing sums
a few rows per reviewer instead of joining every active assignment with `case` (at a
million cases a sequential scan of both, while the mechanism's reference number was
locked). `assignment.case_open`: whether the assignment's case has not ended, kept by the
services on every placement and every stage change into or out of an ended stage (the
partial index `ix_assignment_open_load` counts the loads afresh). `ix_assignment_case_id`:
who left a case (ended assignments) by an index probe, not a scan.
`assignment.queue_rank`, `assignment.next_due_at`: the case's queue keys, copied wherever
they change, so `ix_assignment_queue` serves a reviewer's queue in its order from the index
(no sort of every open case of the reviewer). Upgrading fills `case_open` from each case's
stage, copies the queue keys and counts every load once; downgrading drops them.
`deadline.mechanism_id`: the case's mechanism (filled from the case on upgrade and when a
deadline is written), so the secretariat's overview seeks to its own mechanisms' open
deadlines by due time (`ix_deadline_mechanism_state_due_at`) instead of walking every
mechanism's due deadlines.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

ENDED = ("inadmissible", "referred", "withdrawn", "closed")


def upgrade():
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("case_open", sa.Boolean(), server_default=sa.true(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("queue_rank", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    ended = ", ".join(f"'{stage}'" for stage in ENDED)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            'UPDATE assignment SET queue_rank = c.queue_rank, next_due_at = c.next_due_at'
            ' FROM "case" c WHERE c.id = assignment.case_id AND assignment.ended_at IS NULL'
        )
    else:
        op.execute(
            'UPDATE assignment SET queue_rank = (SELECT queue_rank FROM "case" c'
            " WHERE c.id = assignment.case_id), next_due_at = (SELECT next_due_at"
            ' FROM "case" c WHERE c.id = assignment.case_id) WHERE ended_at IS NULL'
        )
    op.execute(
        "UPDATE assignment SET case_open = false WHERE case_id IN "
        f'(SELECT id FROM "case" WHERE stage IN ({ended}))'  # noqa: S608 - constants
    )
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assignment_open_load",
            ["reviewer_id"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NULL AND case_open"),
            postgresql_where=sa.text("ended_at IS NULL AND case_open"),
        )
        batch_op.create_index("ix_assignment_case_id", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_assignment_queue",
            ["reviewer_id", "queue_rank", "next_due_at", "case_id"],
            unique=False,
            sqlite_where=sa.text("ended_at IS NULL AND case_open"),
            postgresql_where=sa.text("ended_at IS NULL AND case_open"),
            postgresql_include=["role"],
        )
    op.create_table(
        "reviewer_load",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reviewer_id", sa.Integer(), nullable=False),
        sa.Column("delta", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["user.id"], name=op.f("fk_reviewer_load_reviewer_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviewer_load")),
    )
    with op.batch_alter_table("reviewer_load", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reviewer_load_reviewer_id"), ["reviewer_id"], unique=False
        )
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.add_column(sa.Column("mechanism_id", sa.Integer(), nullable=True))
    op.execute(
        'UPDATE deadline SET mechanism_id = (SELECT mechanism_id FROM "case" c'
        " WHERE c.id = deadline.case_id)"
    )
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.create_foreign_key(
            batch_op.f("fk_deadline_mechanism_id_mechanism"), "mechanism", ["mechanism_id"], ["id"]
        )
        batch_op.create_index(
            "ix_deadline_mechanism_state_due_at", ["mechanism_id", "state", "due_at"], unique=False
        )
    op.execute(
        "INSERT INTO reviewer_load (reviewer_id, delta) SELECT reviewer_id, count(*)"
        " FROM assignment WHERE ended_at IS NULL AND case_open GROUP BY reviewer_id"
    )


def downgrade():
    with op.batch_alter_table("deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_deadline_mechanism_state_due_at")
        batch_op.drop_constraint(
            batch_op.f("fk_deadline_mechanism_id_mechanism"), type_="foreignkey"
        )
        batch_op.drop_column("mechanism_id")
    with op.batch_alter_table("reviewer_load", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviewer_load_reviewer_id"))
    op.drop_table("reviewer_load")
    with op.batch_alter_table("assignment", schema=None) as batch_op:
        batch_op.drop_index(
            "ix_assignment_queue",
            sqlite_where=sa.text("ended_at IS NULL AND case_open"),
            postgresql_where=sa.text("ended_at IS NULL AND case_open"),
        )
        batch_op.drop_index("ix_assignment_case_id")
        batch_op.drop_index(
            "ix_assignment_open_load",
            sqlite_where=sa.text("ended_at IS NULL AND case_open"),
            postgresql_where=sa.text("ended_at IS NULL AND case_open"),
        )
        batch_op.drop_column("next_due_at")
        batch_op.drop_column("queue_rank")
        batch_op.drop_column("case_open")
