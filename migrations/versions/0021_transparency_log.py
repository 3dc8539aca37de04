"""the transparency log: redactable events (form 2), the Merkle tree and its checkpoints

Revision ID: 0021
Revises: 0015
Create Date: 2026-12-07 23:50:00.000000

`case_event.salts`: the salt of each payload field and of the actor's id, so that each is
committed by its own digest and a redacted view checks against the same hash;
`case_event.leaf_index`: the event's leaf in the transparency log. `merkle_node`: the
hash of every complete aligned subtree of the log's Merkle tree; `transparency_log`: its
one state row (the size), locked by the worker that integrates; `checkpoint`: every
signed head, kept.

Every existing event is re-chained into form 2 (fresh salts, new hashes, each pointing
to the new hash before it), then each case gets a `log_rechained` event that says so:
there is no production data yet, and form-1 hashes were never published. The events
are integrated into the tree by the worker's next run. Downgrading drops the tables and
columns; the re-chained hashes stay (form 1 cannot be restored without the old hashes).
"""

import hashlib
import secrets
from datetime import UTC, datetime

import rfc8785
import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021"
down_revision = "0017"
branch_labels = None
depends_on = None

GENESIS = "0" * 64
FORM = 2
ACTOR_FIELD = "@actor_id"


# Form 2 as services/canonical.py writes it (docs/transparency.md), copied: a migration
# does not import the application, whose code will move on.
def _sha(value):
    return hashlib.sha256(rfc8785.dumps(value)).hexdigest()


def _time_text(moment):
    if moment.tzinfo is None:  # SQLite gives naive UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _digest(reference, seq, kind, visibility, role, actor_id, stage_from, stage_to, payload,
            salts, created_at, prev):
    values = {**payload, ACTOR_FIELD: actor_id}
    fields = {
        name: _sha({"name": name, "salt": salts[name], "value": value})
        for name, value in values.items()
    }
    body = {
        "actor_role": role, "case": reference, "created_at": _time_text(created_at),
        "fields": fields, "form": FORM, "kind": kind, "prev": prev, "seq": seq,
        "stage_from": stage_from, "stage_to": stage_to, "visibility": visibility,
    }
    return _sha(body)


def _salts(payload):
    return {name: secrets.token_hex(16) for name in (*payload, ACTOR_FIELD)}

case_table = sa.table(
    "case",
    sa.column("id", sa.Integer),
    sa.column("reference", sa.String),
    sa.column("event_count", sa.Integer),
    sa.column("log_head", sa.String),
)
event_table = sa.table(
    "case_event",
    sa.column("id", sa.Integer),
    sa.column("case_id", sa.Integer),
    sa.column("seq", sa.Integer),
    sa.column("kind", sa.String),
    sa.column("visibility", sa.String),
    sa.column("actor_role", sa.String),
    sa.column("actor_id", sa.Integer),
    sa.column("stage_from", sa.String),
    sa.column("stage_to", sa.String),
    sa.column("payload", sa.JSON),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
    sa.column("salts", sa.JSON),
)


def upgrade():
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.add_column(sa.Column("salts", sa.JSON(), nullable=False, server_default="{}"))
        batch_op.add_column(sa.Column("leaf_index", sa.BigInteger(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_case_event_leaf_index"), ["leaf_index"]
        )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.alter_column("salts", server_default=None)
    op.create_table(
        "transparency_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transparency_log")),
    )
    op.create_table(
        "merkle_node",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("node_index", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("level", "node_index", name=op.f("pk_merkle_node")),
    )
    op.create_table(
        "checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkpoint")),
        sa.UniqueConstraint("tree_size", name=op.f("uq_checkpoint_tree_size")),
    )
    with op.batch_alter_table("checkpoint", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_checkpoint_created_at"), ["created_at"], unique=False)
    op.execute(sa.text("INSERT INTO transparency_log (id, size) VALUES (1, 0)"))
    rechain(op.get_bind())


def rechain(connection, now=None):
    """Re-chain every case's events into form 2 and append `log_rechained` to each."""
    now = now or datetime.now(UTC)
    stored_now = now.replace(tzinfo=None) if connection.dialect.name == "sqlite" else now
    cases = connection.execute(
        sa.select(case_table.c.id, case_table.c.reference).order_by(case_table.c.id)
    ).all()
    for case_id, reference in cases:
        rows = connection.execute(
            sa.select(event_table)
            .where(event_table.c.case_id == case_id)
            .order_by(event_table.c.seq)
        ).all()
        head = GENESIS
        for row in rows:
            salts = _salts(row.payload)
            digest = _digest(reference, row.seq, row.kind, row.visibility, row.actor_role,
                             row.actor_id, row.stage_from, row.stage_to, row.payload, salts,
                             row.created_at, head)
            connection.execute(
                event_table.update()
                .where(event_table.c.id == row.id)
                .values(salts=salts, prev_hash=head, hash=digest)
            )
            head = digest
        seq = len(rows) + 1
        payload = {"events": len(rows), "form": FORM}
        salts = _salts(payload)
        digest = _digest(reference, seq, "log_rechained", "public", "system", None, None,
                         None, payload, salts, now, head)
        connection.execute(
            event_table.insert().values(
                case_id=case_id, seq=seq, kind="log_rechained", visibility="public",
                actor_role="system", actor_id=None, stage_from=None, stage_to=None,
                payload=payload, created_at=stored_now, prev_hash=head, hash=digest, salts=salts,
            )
        )
        connection.execute(
            case_table.update()
            .where(case_table.c.id == case_id)
            .values(event_count=seq, log_head=digest)
        )


def downgrade():
    op.drop_table("checkpoint")
    op.drop_table("merkle_node")
    op.drop_table("transparency_log")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_case_event_leaf_index"), type_="unique")
        batch_op.drop_column("leaf_index")
        batch_op.drop_column("salts")
