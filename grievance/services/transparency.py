"""The transparency log over every case event (DESIGN invariant 3; docs/transparency.md).

Every event hash is a leaf of one append-only RFC 9162 Merkle tree (`merkle`). The
worker's `integrate` job gives new events their leaf index, in the order of their ids,
stores the subtrees they complete and signs a checkpoint (`checkpoints`) when the tree
grew: one worker at a time (the `transparency_log` row is locked, skipped by others
while held). Proofs read only the O(log n) subtrees they need.

`is_published` is the one place that says whether a case is public: the transparency
endpoints use it, and the public registry will.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grievance.models import (
    Case,
    CaseEvent,
    Checkpoint,
    Complainant,
    Consent,
    MerkleNode,
    ReprisalRisk,
    TransparencyLog,
    Visibility,
)
from grievance.services import checkpoints, merkle
from grievance.services.canonical import field_digest, time_text
from grievance.services.caselog import field_visibility
from grievance.services.context import Context

PUBLISH_CONSENT = "publish_summary"
#: Events integrated per run at most (the next run takes the rest).
BATCH = 20_000
STATE_ID = 1


def origin_for(public_base_url: str) -> str:
    """The log's origin and key name: the public address without its scheme."""
    parts = urlsplit(public_base_url)
    return f"{parts.netloc}{parts.path.rstrip('/')}/transparency"


# -- what is public -----------------------------------------------------------------


def is_published(ctx: Context, case: Case) -> bool:
    """Whether anyone may see the case: the mechanism publishes cases, a reviewer assessed
    the reprisal risk and found it not high, and every complainant consented to the
    publication of a summary (and has not withdrawn it). The single rule for every
    public surface: the transparency endpoints and the public registry."""
    if not case.mechanism.publishes_cases:
        return False
    if case.reprisal_risk is None or case.reprisal_risk is ReprisalRisk.HIGH:
        return False
    complainants = ctx.session.scalar(
        select(sa.func.count()).select_from(Complainant).where(Complainant.case_id == case.id)
    )
    consenting = ctx.session.scalar(
        select(sa.func.count(sa.distinct(Consent.complainant_id)))
        .join(Complainant, Complainant.id == Consent.complainant_id)
        .where(
            Complainant.case_id == case.id,
            Consent.purpose == PUBLISH_CONSENT,
            Consent.granted.is_(True),
            Consent.withdrawn_at.is_(None),
        )
    )
    return bool(complainants) and consenting == complainants


# -- the tree -------------------------------------------------------------------------


def _state(session: Session) -> TransparencyLog | None:
    """The log's state row, locked; None while another worker integrates."""
    if session.get(TransparencyLog, STATE_ID) is None:
        # the migration made it; a database emptied since gets it back (once, if several
        # workers try at once)
        try:
            with session.begin_nested():
                session.add(TransparencyLog(id=STATE_ID, size=0))
        except IntegrityError:
            pass
    if session.get_bind().dialect.name == "sqlite":
        # SQLite locks the whole database on the first write: take it before reading.
        session.execute(
            update(TransparencyLog)
            .where(TransparencyLog.id == STATE_ID)
            .values(size=TransparencyLog.size)
        )
    return session.scalars(
        select(TransparencyLog)
        .where(TransparencyLog.id == STATE_ID)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    ).one_or_none()


def _nodes(session: Session, keys: Iterable[merkle.Key]) -> dict[merkle.Key, bytes]:
    wanted = sorted(set(keys))
    found: dict[merkle.Key, bytes] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        rows = session.execute(
            select(MerkleNode.level, MerkleNode.node_index, MerkleNode.hash).where(
                sa.tuple_(MerkleNode.level, MerkleNode.node_index).in_(chunk)
            )
        )
        found.update({(row.level, row.node_index): bytes(row.hash) for row in rows})
    return found


def _lookup(session: Session, compute: Any) -> merkle.Lookup:
    return merkle.from_table(_nodes(session, merkle.needed(compute)))


def root(session: Session, size: int) -> bytes:
    return merkle.root(size, _lookup(session, lambda lookup: merkle.root(size, lookup)))


def inclusion_proof(session: Session, index: int, size: int) -> list[bytes]:
    def compute(lookup: merkle.Lookup) -> list[bytes]:
        return merkle.inclusion_proof(index, size, lookup)

    return compute(_lookup(session, compute))


def consistency_proof(session: Session, old: int, new: int) -> list[bytes]:
    def compute(lookup: merkle.Lookup) -> list[bytes]:
        return merkle.consistency_proof(old, new, lookup)

    return compute(_lookup(session, compute))


def latest_checkpoint(session: Session) -> Checkpoint | None:
    return session.scalars(
        select(Checkpoint).order_by(Checkpoint.tree_size.desc()).limit(1)
    ).first()


@dataclass(frozen=True)
class Integrated:
    added: int
    size: int
    checkpoint: Checkpoint | None

    def __str__(self) -> str:
        signed = f", checkpoint {self.checkpoint.tree_size} signed" if self.checkpoint else ""
        return f"{self.added} events integrated, tree size {self.size}{signed}"


def integrate(ctx: Context, origin: str, batch: int = BATCH) -> Integrated | None:
    """Add up to `batch` events not yet in the tree (in id order), then, if no more wait,
    sign a checkpoint if the tree grew or none exists. None if another worker is
    integrating."""
    session = ctx.session
    state = _state(session)
    if state is None:
        return None
    size = state.size
    pending = session.execute(
        select(CaseEvent.id, CaseEvent.hash)
        .where(CaseEvent.leaf_index.is_(None))
        .order_by(CaseEvent.id)
        .limit(batch)
    ).all()
    table = _nodes(session, merkle.frontier(size))
    new_nodes: list[dict[str, Any]] = []
    indexes: list[dict[str, int]] = []
    lookup = merkle.from_table(table)
    for row in pending:
        made = merkle.completed(size, merkle.leaf_hash(bytes.fromhex(row.hash)), lookup)
        for level, index, value in made:
            table[(level, index)] = value
            new_nodes.append({"level": level, "node_index": index, "hash": value})
        indexes.append({"id": row.id, "leaf_index": size})
        size += 1
    if indexes:
        session.execute(sa.insert(MerkleNode), new_nodes)
        session.execute(update(CaseEvent), indexes)
        state.size = size
        state.updated_at = ctx.now()
    latest = latest_checkpoint(session)
    signed = None
    caught_up = len(pending) < batch  # a full batch: more wait, sign after the last
    if caught_up and (latest is None or latest.tree_size < size):
        signed = sign_checkpoint(ctx, origin, size, merkle.root(size, lookup))
    session.flush()
    return Integrated(len(indexes), size, signed)


def catch_up(ctx: Context, origin: str, batch: int = BATCH, most: int = 50) -> Integrated | None:
    """`integrate` batch after batch, committing each (a worker back after a bulk load
    catches up without one huge transaction), signing once caught up; at most `most`
    batches per run. None if another worker is integrating."""
    added = 0
    done = None
    for _ in range(most):
        done = integrate(ctx, origin, batch)
        ctx.session.commit()
        if done is None:
            break
        added += done.added
        if done.added < batch:
            break
    if done is None:
        return None if not added else Integrated(added, -1, None)
    return Integrated(added, done.size, done.checkpoint)


def sign_checkpoint(ctx: Context, origin: str, size: int, root_hash: bytes) -> Checkpoint:
    body = checkpoints.checkpoint_body(origin, size, root_hash)
    note = checkpoints.sign_note(body, origin, checkpoints.signing_key(ctx.keyring))
    checkpoint = Checkpoint(
        tree_size=size, root_hash=root_hash.hex(), note=note, created_at=ctx.now()
    )
    ctx.session.add(checkpoint)
    return checkpoint


def verifier_key(ctx: Context, origin: str) -> str:
    key = checkpoints.signing_key(ctx.keyring).public_key()
    return checkpoints.verifier_key(origin, checkpoints.public_bytes(key))


def verify_tree(session: Session, reference: str | None = None) -> Iterator[str]:
    """What does not hold between the events and the tree: an integrated event whose hash
    is not its leaf (rewritten after it was integrated), and (for the whole log) a signed
    checkpoint whose root the stored tree no longer gives."""
    leaves = (
        select(CaseEvent.id, CaseEvent.seq, CaseEvent.leaf_index, CaseEvent.hash, MerkleNode.hash)
        .join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(
            MerkleNode,
            sa.and_(MerkleNode.level == 0, MerkleNode.node_index == CaseEvent.leaf_index),
        )
        .where(CaseEvent.leaf_index.is_not(None))
        .add_columns(Case.reference)
        .order_by(CaseEvent.leaf_index)
    )
    if reference is not None:
        leaves = leaves.where(Case.reference == reference)
    for row in session.execute(leaves.execution_options(yield_per=5000)):
        leaf = row[4]
        if leaf is None or bytes(leaf) != merkle.leaf_hash(bytes.fromhex(row.hash)):
            yield (
                f"{row.reference}: event #{row.seq} (id {row.id}) is not leaf {row.leaf_index} "
                "of the transparency log (rewritten after it was integrated)"
            )
    if reference is None:
        for checkpoint in session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)):
            try:
                found = root(session, checkpoint.tree_size).hex()
            except merkle.ProofError as error:
                found = str(error)
            if found != checkpoint.root_hash:
                yield f"checkpoint {checkpoint.tree_size}: the stored tree no longer gives its root"


# -- a case's log as an audience may check it -------------------------------------


def event_view(event: CaseEvent, audience: Visibility) -> dict[str, Any]:
    """An event as `audience` may check it: only its hash if it may not see the event;
    else what the event says, each field it may see with its value, salt and digest, the
    others with their digest only."""
    if event.visibility > audience:
        return {"seq": event.seq, "hash": event.hash}
    fields: dict[str, Any] = {}
    values = {**event.payload, "@actor_id": event.actor_id}
    for name in sorted(event.salts):
        salt = event.salts[name]
        digest = field_digest(name, values.get(name), salt)
        if field_visibility(event.kind, name) <= audience:
            fields[name] = {"digest": digest, "salt": salt, "value": values.get(name)}
        else:
            fields[name] = {"digest": digest}
    return {
        "seq": event.seq,
        "kind": event.kind,
        "visibility": event.visibility.label,
        "actor_role": event.actor_role.value,
        "stage_from": event.stage_from.value if event.stage_from else None,
        "stage_to": event.stage_to.value if event.stage_to else None,
        "created_at": time_text(event.created_at),
        "fields": fields,
        "prev": event.prev_hash,
        "hash": event.hash,
    }


def case_log(ctx: Context, case: Case, audience: Visibility) -> dict[str, Any]:
    """The case's chain as `audience` may check it, with the inclusion of its head (the
    last event the latest checkpoint holds) in that checkpoint."""
    session = ctx.session
    events = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    latest = latest_checkpoint(session)
    tree_size = latest.tree_size if latest else 0
    head = None
    for event in events:
        if event.leaf_index is not None and event.leaf_index < tree_size:
            head = event
    proof = (
        inclusion_proof(session, head.leaf_index, tree_size)
        if head and head.leaf_index is not None
        else []
    )
    return {
        "reference": case.reference,
        "events": [event_view(event, audience) for event in events],
        "head_hash": head.hash if head else None,
        "head_seq": head.seq if head else None,
        "head_index": head.leaf_index if head else None,
        "tree_size": tree_size,
        "root_hash": latest.root_hash if latest else None,
        "checkpoint": latest.note if latest else None,
        "inclusion_proof": [node.hex() for node in proof],
    }
