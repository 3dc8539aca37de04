"""The case log: append-only, hash-chained events (DESIGN invariants 2-4)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grievance.models.base import Base, enum_type
from grievance.models.case import Stage
from grievance.models.user import Role

if TYPE_CHECKING:
    from grievance.models.case import Case


class Visibility(enum.IntEnum):
    """Who may see an event or a field, from the widest audience to the narrowest."""

    PUBLIC = 0  # anyone, redacted
    PARTIES = 1  # the complainant and the companies in the case
    REVIEWERS = 2  # assigned reviewers and the secretariat
    INTERNAL = 3  # audit only

    @property
    def label(self) -> str:
        return self.name.lower()


class VisibilityType(sa.TypeDecorator[Visibility]):
    """Stores a visibility by name, so the table reads well in SQL."""

    impl = sa.String(16)
    cache_ok = True

    def process_bind_param(self, value: Visibility | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else value.label

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> Visibility | None:
        return None if value is None else Visibility[value.upper()]


class CaseEvent(Base):
    __tablename__ = "case_event"
    __table_args__ = (
        sa.UniqueConstraint("case_id", "seq"),
        sa.CheckConstraint(
            "visibility IN ('public', 'parties', 'reviewers', 'internal')", name="visibility"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"))
    #: Position in the case's chain, from 1.
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(sa.String(40))
    visibility: Mapped[Visibility] = mapped_column(VisibilityType())
    actor_role: Mapped[Role] = mapped_column(enum_type(Role))
    #: The staff user who acted; never a complainant's identity.
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    stage_from: Mapped[Stage | None] = mapped_column(enum_type(Stage, "stage_from"))
    stage_to: Mapped[Stage | None] = mapped_column(enum_type(Stage, "stage_to"))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    prev_hash: Mapped[str] = mapped_column(sa.String(64))
    hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    #: The salt of each payload field and of the actor's id (`@actor_id`), lowercase hex:
    #: each field is committed by its own salted digest (`services.canonical`).
    salts: Mapped[dict[str, str]] = mapped_column(sa.JSON(), default=dict)
    #: The event's leaf in the transparency log's Merkle tree, once integrated.
    leaf_index: Mapped[int | None] = mapped_column(sa.BigInteger, unique=True)

    case: Mapped[Case] = relationship(back_populates="events")
