"""The transparency log (DESIGN invariant 3): one append-only RFC 9162 Merkle tree whose
leaves are the event hashes, and its signed checkpoints.

`CaseEvent.leaf_index` is an event's place in the tree; `MerkleNode` keeps the hash of
every complete aligned subtree (level 0: the leaf hashes), so a root or a proof reads
O(log n) rows; `TransparencyLog` is the one row the integrating worker locks, and holds
the tree's size; `Checkpoint` keeps every signed head, never deleted.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base


class TransparencyLog(Base):
    """The log's state: one row (id 1), locked by the worker that integrates."""

    __tablename__ = "transparency_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: How many leaves the tree holds.
    size: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[datetime | None]


class MerkleNode(Base):
    """The hash of the complete subtree of `2**level` leaves from leaf `node_index * 2**level`."""

    __tablename__ = "merkle_node"

    level: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, autoincrement=False)
    node_index: Mapped[int] = mapped_column(sa.BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(sa.LargeBinary(32))


class Checkpoint(Base):
    """A signed head of the log: a C2SP tlog-checkpoint as a C2SP signed note."""

    __tablename__ = "checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    tree_size: Mapped[int] = mapped_column(sa.BigInteger, unique=True)
    #: The root hash, lowercase hex.
    root_hash: Mapped[str] = mapped_column(sa.String(64))
    #: The signed note as published, byte for byte (UTF-8).
    note: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
