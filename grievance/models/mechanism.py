"""A grievance mechanism and its versioned policy."""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grievance.models.base import Base

if TYPE_CHECKING:
    from grievance.models.user import User

#: What a mechanism's code looks like (at most 8 characters: TEX, NST): anything else is no
#: mechanism, and never reaches a query (PostgreSQL refuses U+0000).
MECHANISM_CODE = re.compile(r"[A-Z0-9]{1,8}")

secretariat_membership = sa.Table(
    "secretariat_membership",
    Base.metadata,
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("mechanism_id", sa.ForeignKey("mechanism.id", ondelete="CASCADE"), primary_key=True),
)


class Mechanism(Base):
    """One grievance mechanism, e.g. a sector covenant's. Cases belong to exactly one."""

    __tablename__ = "mechanism"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    sector: Mapped[str] = mapped_column(sa.String(40))
    publishes_cases: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime]

    policies: Mapped[list[MechanismPolicy]] = relationship(
        back_populates="mechanism", order_by="MechanismPolicy.version"
    )
    secretariat: Mapped[list[User]] = relationship(
        secondary=secretariat_membership, back_populates="mechanisms"
    )


class MechanismPolicy(Base):
    """One version of a mechanism's overrides of the default policy (R01, R25).

    Changing a policy adds a version; a case keeps the version it was filed under.
    """

    __tablename__ = "mechanism_policy"
    __table_args__ = (sa.UniqueConstraint("mechanism_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mechanism_id: Mapped[int] = mapped_column(sa.ForeignKey("mechanism.id"))
    version: Mapped[int]
    overrides: Mapped[dict[str, Any]] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime]
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))

    mechanism: Mapped[Mechanism] = relationship(back_populates="policies")
