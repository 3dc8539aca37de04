"""Per-case data keys, wrapped by the key ring (DESIGN §5)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from grievance.models.base import Base


class DataKey(Base):
    """The key that encrypts one case's identities and words.

    Deleting the row erases them for good; the case log survives.
    """

    __tablename__ = "data_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(sa.ForeignKey("case.id"), unique=True)
    #: Version of the key-encryption key in the key ring that wraps this key.
    kek_version: Mapped[int]
    wrapped: Mapped[bytes] = mapped_column(sa.LargeBinary(128))
    created_at: Mapped[datetime]
    rewrapped_at: Mapped[datetime | None]
