"""Partner applications of the JSON intake API (an NGO's intake app, a union's helpline):
their keys, limits and audit trail (`grievance.services.api_clients`).

A key is shown once, when an administrator creates the client, and never stored: the row
keeps its public id (`key_id`, also the start of the key, to tell keys apart) and the
SHA-256 of the whole key. The key carries 256 random bits, so its plain hash cannot be
reversed or guessed; no pepper or slow hash would add anything.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from grievance.models.base import Base, enum_type

if TYPE_CHECKING:
    from grievance.models.user import User

#: The most complaints a client may be allowed per hour and per day.
MAX_PER_HOUR = 10_000
MAX_PER_DAY = 100_000


class ApiClient(Base):
    """One partner application's key. Revoked, it stays: its audit trail refers to it,
    and the cases it filed name it in their logs."""

    __tablename__ = "api_client"
    __table_args__ = (
        sa.CheckConstraint(
            f"complaints_per_hour BETWEEN 1 AND {MAX_PER_HOUR}", name="complaints_per_hour"
        ),
        sa.CheckConstraint(
            f"complaints_per_day BETWEEN complaints_per_hour AND {MAX_PER_DAY}",
            name="complaints_per_day",
        ),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by_id IS NULL)", name="revoked_by_whom"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: What the application is called ("Worker Voice app").
    name: Mapped[str] = mapped_column(sa.String(120))
    #: Who runs it ("Awaj Foundation").
    organisation: Mapped[str] = mapped_column(sa.String(200))
    #: The key's public part, e.g. `gmk_3f9a2b1c4d5e`: how a request names its client.
    key_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    #: SHA-256 of the whole key, hex.
    key_hash: Mapped[str] = mapped_column(sa.String(64))
    complaints_per_hour: Mapped[int]
    complaints_per_day: Mapped[int]
    created_at: Mapped[datetime]
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("user.id"))
    revoked_at: Mapped[datetime | None]
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id"))
    #: The last request the key authenticated.
    last_used_at: Mapped[datetime | None]

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class ApiUseOutcome(enum.StrEnum):
    """What came of one request that named a client's key."""

    #: Done: a complaint filed, a follow-up answered, a message taken.
    ACCEPTED = "accepted"
    #: Refused for its content (invalid input, an unknown receipt code, not JSON).
    REFUSED = "refused"
    #: Over the client's limits.
    RATE_LIMITED = "rate_limited"
    #: The right key, revoked.
    REVOKED_KEY = "revoked_key"
    #: The client's key id with a wrong secret.
    WRONG_KEY = "wrong_key"
    #: Failed on the server's side (a 5xx status): nothing was done.
    FAILED = "failed"


class ApiClientUse(Base):
    """One request that named a client's key: when, which endpoint, what came of it and
    the case it filed. Never the client's address."""

    __tablename__ = "api_client_use"
    __table_args__ = (sa.Index("ix_api_client_use_client_id_at", "client_id", "at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(sa.ForeignKey("api_client.id"))
    at: Mapped[datetime]
    #: The operation, as the API names its path ("complaints", "followup" ...).
    endpoint: Mapped[str] = mapped_column(sa.String(40))
    outcome: Mapped[ApiUseOutcome] = mapped_column(enum_type(ApiUseOutcome))
    #: The HTTP status answered.
    status: Mapped[int] = mapped_column(sa.SmallInteger)
    #: The case a complaint filed.
    case_id: Mapped[int | None] = mapped_column(sa.ForeignKey("case.id"), index=True)
